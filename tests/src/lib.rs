//! Shared setup for the end-to-end tests: the emulator, an isolated HOME, the binaries.

pub mod emulator;
pub mod python;
pub mod sandbox;
pub mod shells;

pub use emulator::{Emulator, workspace_bin};
pub use sandbox::Sandbox;
