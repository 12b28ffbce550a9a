//! `cargo xtask <chore>`: the project's chores, in Rust so they run wherever cargo does.
//!
//! - `demo`: log in to a local emulator in a throw-away HOME and show the status.
//! - `test`: build every binary, then run every test (the end-to-end tests run the binaries,
//!   which `cargo test` alone does not build for another package).
//! - `install`: `cargo install` every binary of the suite.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// The binaries of the suite, by crate directory.
const BINARIES: &[&str] = &["aws-sso-login", "aws-sso-emulator"];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(&args[1..]),
        Some("install") => install(),
        _ => bail!(
            "usage: cargo xtask <demo|test|install>\n  demo     log in to a local emulator in a throw-away HOME and show the status\n  test     build every binary, then run every test (extra arguments go to cargo test)\n  install  cargo install every binary of the suite"
        ),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn step(text: &str) {
    #[allow(clippy::print_stdout)]
    {
        println!("\n==> {text}");
    }
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    let root = workspace_root();
    let status = cargo().current_dir(&root).args(["build", "--workspace", "--bins"]).status()?;
    if !status.success() {
        bail!("the build failed");
    }
    let status = cargo().current_dir(&root).args(["test", "--workspace"]).args(extra).status()?;
    if !status.success() {
        bail!("tests failed");
    }
    Ok(())
}

fn install() -> anyhow::Result<()> {
    let root = workspace_root();
    for bin in BINARIES {
        step(&format!("cargo install --path crates/{bin}"));
        let status = cargo()
            .args(["install", "--locked", "--path"])
            .arg(root.join("crates").join(bin))
            .status()?;
        if !status.success() {
            bail!("cargo install of {bin} failed");
        }
    }
    Ok(())
}

/// Kills the emulator when the demo ends, however it ends.
struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo() -> anyhow::Result<()> {
    let root = workspace_root();
    step("Building the tools");
    let status = cargo()
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "aws-sso-login", "-p", "aws-sso-emulator"])
        .status()?;
    if !status.success() {
        bail!("the build failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let bin = target.join("debug");

    let home = tempfile::Builder::new().prefix("aws-sso-demo-").tempdir()?;
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws)?;
    let config = "[sso-session demo]\nsso_start_url = https://d-0000000000.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";
    std::fs::write(aws.join("config"), config)?;

    let mut child = Command::new(bin.join("aws-sso-emulator"))
        .args(["--accounts", "4", "--roles-per-account", "2", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("could not start aws-sso-emulator")?;
    let stdout = child.stdout.take().context("no stdout from the emulator")?;
    let emulator = Emulator(child);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url)?;
    let url = url.trim().to_owned();
    if !url.starts_with("http://127.0.0.1:") {
        bail!("the emulator did not print its URL (got {url:?})");
    }
    step(&format!("The emulator (a local IAM Identity Center) listens on {url}"));
    step(&format!("A throw-away HOME: {}\n~/.aws/config:\n{config}", home.path().display()));

    // The stand-in browser fetches the authorize URL and follows the emulator's redirect to
    // the loopback listener of aws-sso-login, as a person clicking "Allow" would.
    let browser = format!("{} browse", bin.join("aws-sso-emulator").display());
    let run = |args: &[&str]| -> anyhow::Result<()> {
        step(&format!("aws-sso-login {}", args.join(" ")));
        let status = Command::new(bin.join("aws-sso-login"))
            .args(args)
            .env("HOME", home.path())
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SSO_SESSION")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env("AWS_ENDPOINT_URL", &url)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("BROWSER", &browser)
            .status()?;
        if !status.success() {
            bail!("aws-sso-login {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    run(&[])?;
    run(&["status"])?;
    run(&["status", "--output", "json"])?;
    run(&[])?;
    drop(emulator);
    step("Done. Against a real IAM Identity Center, see the Quick start in README.md.");
    Ok(())
}
