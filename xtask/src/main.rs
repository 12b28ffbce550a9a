//! `cargo xtask <chore>`: the project's chores, in Rust so they run wherever cargo does.
//!
//! - `demo`: log in to a local emulator in a throw-away HOME, show the status, list accounts;
//!   `--shell` then opens an interactive shell wired to it.
//! - `test`: say which optional tools are missing, build every binary, then run every test
//!   (the end-to-end tests run the binaries, which `cargo test` alone does not build for
//!   another package).
//! - `bench`: the speed figures of `aws-sso-ls`, each beside a reference measured in the same run.
//! - `install`: release binaries, man pages and completion files into a prefix.
//! - `codegen`: write the generated files (schema, completions, man pages); `--check` fails
//!   when one is stale.

mod bench;
mod codegen;
mod demo;
mod install;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::bail;
use aws_sso_tests::tools::{self, Missing};
use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};

/// The binaries of the suite, by crate directory.
const BINARIES: &[&str] =
    &["aws-sso", "aws-sso-login", "aws-sso-ls", "aws-sso-env", "aws-sso-emulator"];

/// The project's chores: a demo, the tests, the benchmarks, installing, generated files.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", disable_version_flag = true)]
struct Cli {
    #[command(subcommand)]
    chore: Chore,
}

#[derive(Debug, Subcommand)]
enum Chore {
    /// Log in to a local emulator in a throw-away HOME, show the status, list the accounts and
    /// run a command with role credentials. Nothing leaves this machine.
    Demo {
        /// Then open an interactive shell ($SHELL, else bash) wired to the emulator, with the
        /// hook and completion loaded and a project directory to cd into; leaving it stops the
        /// emulator and removes the HOME.
        #[arg(long)]
        shell: bool,
    },
    /// Say which optional tools are missing (and which tests skip without them), build every
    /// binary, then run `cargo test --workspace`. Under CI=true a missing tool is an error,
    /// before anything runs.
    Test {
        /// Passed on to `cargo test --workspace`, e.g. `-- login::` to run some tests.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "CARGO TEST ARGS")]
        args: Vec<String>,
    },
    /// Measure the tools against the emulator on a release build, each figure beside a
    /// reference measured in the same run; reports, never fails on a figure.
    Bench {
        /// The groups to run; all when none is named.
        #[arg(value_enum, value_name = "GROUP")]
        groups: Vec<BenchGroup>,
    },
    /// Build release binaries and install them, the man pages and the completion files.
    Install {
        /// Where to install: DIR/bin, DIR/share/man, DIR/share/<shell completion dirs>
        /// [default: ~/.local]
        #[arg(long, value_name = "DIR")]
        prefix: Option<PathBuf>,
    },
    /// Write the generated files: the JSON Schema, the completion scripts, the man pages.
    Codegen {
        /// Write nothing; fail when a committed file differs from its generator.
        #[arg(long)]
        check: bool,
    },
}

/// A group of benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BenchGroup {
    /// aws-sso-ls: cold refresh, rate limits, from the cache.
    Ls,
    /// aws-sso-env: the cached fast paths and credential-process.
    Env,
    /// First use in a big organization: credentials by name on an empty cache.
    FirstUse,
    /// The account and role picker on a pseudo-terminal.
    Picker,
    /// EKS tokens: cached, and fresh from cached role credentials.
    Eks,
    /// The shell hook: on cd, and the cost of an idle prompt.
    Hook,
    /// `aws-sso use`: the shell function on cached credentials, and idle prompts while in use.
    Use,
    /// Tab completion of accounts and roles.
    Complete,
}

fn main() -> ExitCode {
    // clap prints usage errors with the usage and exits 2, and `--help` exits 0.
    let argv: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, argv.get(1).map(String::as_str)),
    };
    let result = match cli.chore {
        Chore::Demo { shell } => demo::run(shell),
        Chore::Test { .. } => test(passed_on(&argv)),
        Chore::Bench { groups } => bench::run(&groups),
        Chore::Install { prefix } => install::run(prefix),
        Chore::Codegen { check } => codegen::run(check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` is the chain on one line: no backtrace, no Debug dump.
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints clap's message (help on stdout, an error on stderr); an error gets the usage of the
/// chore it is about when clap left it out (an invalid value), then exit 2.
fn usage_error(error: &clap::Error, chore: Option<&str>) -> ExitCode {
    let _ = error.print();
    if !error.use_stderr() {
        return ExitCode::SUCCESS;
    }
    if !error.render().to_string().contains("Usage:") {
        let mut command = Cli::command();
        command.build();
        let usage = match chore.and_then(|name| command.find_subcommand_mut(name)) {
            Some(sub) => sub.render_usage(),
            None => command.render_usage(),
        };
        let _ = writeln!(std::io::stderr(), "\n{usage}");
    }
    ExitCode::from(2)
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

/// Builds every binary of the suite, with `extra` flags (`--release`), showing cargo's
/// progress: a first build takes minutes.
fn build_binaries(extra: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["build"];
    args.extend_from_slice(extra);
    for bin in BINARIES {
        args.extend(["-p", bin]);
    }
    cargo(&args)
}

/// What `cargo xtask test` passes on to `cargo test`: every argument after `test`, as written
/// (clap would drop a leading `--`, which `cargo test -- --nocapture` needs).
fn passed_on(argv: &[String]) -> &[String] {
    argv.iter().position(|arg| arg == "test").map_or(&[], |at| &argv[at + 1..])
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    let missing = tools::missing_tools();
    report_tools(&missing);
    if std::env::var("CI").as_deref() == Ok("true") && !missing.is_empty() {
        let names: Vec<String> =
            missing.iter().map(|tool| format!("{} ({})", tool.name, tool.install)).collect();
        bail!(
            "CI=true and the tests need {} missing: {}; install them (.ci/run does) and run again",
            if missing.len() == 1 { "a tool that is" } else { "tools that are" },
            names.join(", ")
        );
    }
    cargo(&["build", "--workspace", "--bins"])?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}

/// Says which tools the tests use are missing and what that does to which tests: `cargo test`
/// shows a passing test's `SKIPPED:` notice to nobody.
fn report_tools(missing: &[&tools::Tool]) {
    let mut text = String::new();
    if missing.is_empty() {
        let names: Vec<&str> = tools::TOOLS.iter().map(|tool| tool.name).collect();
        text.push_str(&format!("Every tool the tests use is installed: {}\n", names.join(", ")));
    }
    for tool in missing {
        let outcome = match tool.missing {
            Missing::Skip => "these tests skip what needs it, and still pass",
            Missing::Fail => "these tests fail",
        };
        text.push_str(&format!("MISSING {} ({}): {outcome}:\n", tool.name, tool.install));
        for test in tool.affected_tests() {
            text.push_str(&format!("    {test}\n"));
        }
    }
    #[allow(clippy::print_stderr)]
    {
        eprint!("\n==> Tools the tests use\n{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
    }

    #[test]
    fn the_flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn test_passes_every_argument_on_to_cargo_test() {
        for args in [&["-p", "aws-sso-tests", "--", "login::"][..], &["--", "--nocapture"], &[]] {
            let argv: Vec<String> =
                ["xtask", "test"].iter().chain(args).map(|a| a.to_string()).collect();
            assert!(parse(&argv[1..].iter().map(String::as_str).collect::<Vec<_>>()).is_ok());
            assert_eq!(passed_on(&argv), args, "{args:?}");
        }
    }

    #[test]
    fn usage_errors_are_exit_2_and_help_is_exit_0() {
        for wrong in [&["bench", "nope"][..], &["demo", "--nope"], &["nope"], &[]] {
            let error = parse(wrong).expect_err("a usage error");
            assert_eq!(error.exit_code(), 2, "{wrong:?}: {error}");
        }
        for chore in ["demo", "test", "bench", "install", "codegen"] {
            let help = parse(&[chore, "--help"]).expect_err("help");
            assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp, "{chore}");
            assert_eq!(help.exit_code(), 0, "{chore}");
        }
        let Chore::Bench { groups } = parse(&["bench", "ls", "hook"]).expect("parse").chore else {
            panic!("not bench");
        };
        assert_eq!(groups, [BenchGroup::Ls, BenchGroup::Hook]);
    }
}
