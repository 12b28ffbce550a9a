//! `cargo xtask` as a user meets it: help for every chore, usage errors, the tools check, and
//! `demo --shell` run with a stand-in shell (a real one needs a terminal).

use std::path::Path;
use std::process::{Command, Output};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(XTASK).args(args).output().expect("run xtask")
}

/// A stand-in for cargo that logs its arguments to `log` and succeeds, so a test runs no build.
fn fake_cargo(dir: &Path, log: &Path) -> std::path::PathBuf {
    let path = dir.join("cargo");
    write_script(&path, &format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display()));
    path
}

fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write a script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn every_chore_has_help() {
    for chore in ["demo", "test", "bench", "install", "codegen"] {
        let out = xtask(&[chore, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{chore}: {}", text(&out.stderr));
        let help = text(&out.stdout);
        assert!(help.contains(&format!("Usage: cargo xtask {chore}")), "{chore}:\n{help}");
    }
    assert!(text(&xtask(&["demo", "--help"]).stdout).contains("--shell"));
    let top = text(&xtask(&["--help"]).stdout);
    for chore in ["demo", "test", "bench", "install", "codegen"] {
        assert!(top.contains(&format!("  {chore} ")), "{chore} not listed:\n{top}");
    }
}

#[test]
fn usage_errors_are_exit_2_with_the_usage_and_no_backtrace() {
    for args in [&["bench", "nope"][..], &["nope"], &["demo", "--nope"], &["codegen", "x"], &[]] {
        let out = xtask(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("Usage: cargo xtask"), "{args:?}: {err}");
        for noise in ["backtrace", "Stack", "panicked", "Error {"] {
            assert!(!err.contains(noise), "{args:?}: {noise} in {err}");
        }
    }
}

#[test]
fn under_ci_missing_tools_fail_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("cargo.log");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    // Nothing on PATH: every tool the tests use is missing.
    let out = Command::new(XTASK)
        .arg("test")
        .env("CI", "true")
        .env("PATH", &empty)
        .env("CARGO", fake_cargo(dir.path(), &log))
        .output()
        .expect("run xtask");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: CI=true and the tests need tools that are missing: bash"),
        "{err}"
    );
    assert!(err.contains("MISSING fish (apt-get install fish)"), "{err}");
    assert!(err.contains("    complete::fish_completes_with_the_generated_script"), "{err}");
    assert!(err.contains("MISSING kill (apt-get install procps): these tests fail"), "{err}");
    assert!(!log.exists(), "cargo ran: {:?}", std::fs::read_to_string(&log));

    // Without CI the same run says what is missing, then builds and tests.
    let out = Command::new(XTASK)
        .args(["test", "--", "--nocapture"])
        .env_remove("CI")
        .env("PATH", &empty)
        .env("CARGO", fake_cargo(dir.path(), &log))
        .output()
        .expect("run xtask");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("MISSING zsh"));
    let ran = std::fs::read_to_string(&log).expect("cargo ran");
    assert_eq!(ran, "build --workspace --bins\ntest --workspace -- --nocapture\n");
}

#[test]
fn demo_shell_runs_the_shell_in_the_demo_home_then_cleans_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report.txt");
    // The stand-in shell records where it ran and what it saw, then leaves with an error code.
    let shell = dir.path().join("stand-in-shell");
    write_script(
        &shell,
        &format!(
            "#!/bin/sh\n{{ echo \"HOME=$HOME\"; echo \"URL=$AWS_ENDPOINT_URL\"; cd \"$HOME/project\" && \
             aws-sso-env status; aws-sso-ls --accounts -o ids; }} > '{}' 2>&1\nexit 3\n",
            report.display()
        ),
    );
    let out = Command::new(XTASK)
        .args(["demo", "--shell"])
        .env("SHELL", &shell)
        .env("CARGO", fake_cargo(dir.path(), &dir.path().join("cargo.log")))
        .output()
        .expect("run xtask");
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{printed}\n{}", text(&out.stderr));
    assert!(printed.contains("cd ~/project"), "the instructions:\n{printed}");
    assert!(printed.contains("Stopped the emulator and removed"), "{printed}");

    let seen = std::fs::read_to_string(&report).expect("the shell ran");
    let home = seen.lines().find_map(|l| l.strip_prefix("HOME=")).expect("HOME");
    let url = seen.lines().find_map(|l| l.strip_prefix("URL=")).expect("URL");
    assert!(home.contains("aws-sso-test-"), "a throw-away HOME: {seen}");
    assert!(seen.contains("(allowed)") && seen.contains("account-002"), "{seen}");
    assert!(seen.contains("sso session         demo: logged in"), "{seen}");
    assert!(seen.contains("100000000004"), "four accounts listed: {seen}");
    assert!(!Path::new(home).exists(), "{home} is left behind");
    let address = url.trim_start_matches("http://");
    assert!(std::net::TcpStream::connect(address).is_err(), "the emulator still listens at {url}");
    for secret in ["accessToken", "refreshToken", "SecretAccessKey", "ASIA"] {
        assert!(!printed.contains(secret), "{secret} in the demo's output:\n{printed}");
    }
}

#[test]
fn demo_shell_in_bash_loads_the_hook_and_completion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bash = aws_sso_tests::shells::which("bash").expect("bash (the tests need it)");
    // An interactive bash reads its commands from a pipe as well as from a terminal.
    let mut child = Command::new(XTASK)
        .args(["demo", "--shell"])
        .env("SHELL", &bash)
        .env("CARGO", fake_cargo(dir.path(), &dir.path().join("cargo.log")))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run xtask");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(
                b"cd ~/project\necho \"IN=$AWS_SSO_PROFILE\"\ncd ~\necho \"OUT=${AWS_SSO_PROFILE-unset}\"\n\
                  complete -p aws-sso-env >/dev/null && echo COMPLETION=yes\nexit\n",
            )
            .expect("feed bash");
    }
    let out = child.wait_with_output().expect("wait");
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{printed}\n{}", text(&out.stderr));
    assert!(printed.contains("The hook and tab completion are loaded (bash)"), "{printed}");
    for line in ["IN=account-002:ReadOnlyAccess", "OUT=unset", "COMPLETION=yes"] {
        assert!(printed.lines().any(|l| l == line), "no {line}:\n{printed}");
    }
}
