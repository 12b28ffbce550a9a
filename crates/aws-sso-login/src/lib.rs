//! The command line of `aws-sso-login`, as a library so that `cargo xtask codegen` can write its
//! completion scripts and man page from the same definition the binary parses with.

pub mod cli;

/// The whole command line of `aws-sso-login`.
pub fn command() -> clap::Command {
    <cli::Cli as clap::CommandFactory>::command()
}
