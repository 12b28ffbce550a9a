//! One test binary for every end-to-end test (ripgrep style): each module is one story.

mod emulator;
mod env;
mod interop;
mod login;
mod ls;
