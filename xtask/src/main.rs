//! `cargo xtask <chore>`: the project's chores, in Rust so they run wherever cargo does.
//!
//! - `demo`: log in to a local emulator in a throw-away HOME, show the status, list accounts.
//! - `test`: build every binary, then run every test (the end-to-end tests run the binaries,
//!   which `cargo test` alone does not build for another package).
//! - `bench`: the speed figures of `aws-sso-ls`, each beside a reference measured in the same run.
//! - `install`: release binaries, man pages and completion files into a prefix.
//! - `codegen`: write the generated files (schema, completions, man pages); `--check` fails
//!   when one is stale.

mod bench;
mod codegen;
mod demo;
mod install;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::bail;

/// The binaries of the suite, by crate directory.
const BINARIES: &[&str] =
    &["aws-sso", "aws-sso-login", "aws-sso-ls", "aws-sso-env", "aws-sso-emulator"];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("install") => install::run(&args[1..]),
        Some("codegen") => codegen::run(&args[1..]),
        _ => bail!(
            "usage: cargo xtask <demo|test|bench|install|codegen>\n  demo     log in to a local emulator in a throw-away HOME and list its accounts\n  test     build every binary, then run every test (extra arguments go to cargo test)\n  bench    measure the tools against the emulator (release build); `bench ls`, `env` or `hook` for one group\n  install  release binaries, man pages and completions into ~/.local (or --prefix DIR)\n  codegen  write the generated files (--check: fail when one is stale)"
        ),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(workspace_root())
        .args(args)
        .status()?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

/// A line of narration on stdout.
fn step(text: &str) {
    #[allow(clippy::print_stdout)]
    {
        println!("\n==> {text}");
    }
}

/// Builds every binary of the suite, with `extra` flags (`--release`).
fn build_binaries(extra: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["build", "--quiet"];
    args.extend_from_slice(extra);
    for bin in BINARIES {
        args.extend(["-p", bin]);
    }
    cargo(&args)
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    cargo(&["build", "--workspace", "--bins"])?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}
