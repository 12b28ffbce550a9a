//! The command line of `aws-sso`, as a library so that `cargo xtask codegen` can write its
//! completion scripts and man page from the same definition the binary parses with.

pub mod cli;

pub use cli::command;
