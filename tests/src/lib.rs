//! Shared setup for the end-to-end tests: the emulator, an isolated HOME, the binaries.

pub mod emulator;
pub mod python;
pub mod sandbox;
pub mod shells;
#[cfg(unix)]
pub mod terminal;
pub mod tools;

pub use emulator::{Emulator, workspace_bin};
pub use sandbox::Sandbox;

/// What a finished command printed on stdout, as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a finished command printed on stderr, as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
