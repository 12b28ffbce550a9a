//! `aws-sso NAME …`: the front command runs the suite's commands and any `aws-sso-NAME` plugin
//! in its place, the one beside it before the one on PATH, and hands back their exit status.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::workspace_bin;
use aws_sso_tests::{stderr, stdout};
use tempfile::TempDir;

/// A directory of plugin programs, for PATH.
struct Plugins(TempDir);

impl Plugins {
    fn new() -> Self {
        Self(tempfile::Builder::new().prefix("aws-sso-plugins-").tempdir().expect("temp dir"))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `aws-sso-NAME` as a shell script with the body `script`, with `mode`.
    fn add(&self, name: &str, script: &str, mode: u32) -> PathBuf {
        let path = self.path().join(format!("aws-sso-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{script}")).expect("write plugin");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }
}

/// `aws-sso` with only `path` as PATH (the scripts use shell builtins only) and a throw-away
/// HOME, so no command installed on this machine can change what it finds.
fn aws_sso(path: &[&Path]) -> Command {
    let home = std::env::temp_dir();
    let mut cmd = Command::new(workspace_bin("aws-sso"));
    cmd.env_clear()
        .env("PATH", std::env::join_paths(path).expect("PATH"))
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run aws-sso")
}

/// Filters that replace the directories of the binaries and of the plugins with names.
fn path_filters(named: &[(&Path, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let bin = workspace_bin("aws-sso").parent().expect("bin dir").to_path_buf();
    let mut dirs = vec![(bin.clone(), "[BIN]")];
    dirs.push((bin.canonicalize().expect("canonical bin dir"), "[BIN]"));
    for (dir, name) in named {
        dirs.push((dir.to_path_buf(), name));
        dirs.push((dir.canonicalize().expect("canonical dir"), name));
    }
    for (dir, name) in dirs {
        settings.add_filter(&regex_escape(&dir.display().to_string()), name);
    }
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = "\\.+*?()|[]{}^$".contains(c);
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

#[test]
fn a_suite_command_runs_as_if_called_directly() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let login = sandbox.cmd("aws-sso").arg("login").output().expect("run aws-sso login");
    assert!(login.status.success(), "aws-sso login: {}", stderr(&login));
    assert_eq!(sandbox.browser_opens().len(), 1, "the login went through the browser once");

    // JSON, whose times are absolute: the table's "(in 7h59m)" could tick between the two runs.
    let through =
        sandbox.cmd("aws-sso").args(["login", "status", "-o", "json"]).output().expect("run");
    let direct = sandbox.cmd("aws-sso-login").args(["status", "-o", "json"]).output().expect("run");
    assert!(direct.status.success(), "aws-sso-login status: {}", stderr(&direct));
    let sessions: serde_json::Value = serde_json::from_slice(&direct.stdout).expect("JSON");
    assert_eq!(sessions[0]["ssoSession"], "corp");
    assert_eq!(sessions[0]["loggedIn"], true, "{sessions}");
    assert_eq!(through.status.code(), direct.status.code());
    assert_eq!(stdout(&through), stdout(&direct));
    assert_eq!(stderr(&through), stderr(&direct));
}

#[test]
fn a_plugin_on_path_gets_its_arguments_untouched_and_its_exit_code_comes_back() {
    let plugins = Plugins::new();
    plugins.add("hello", "printf '[%s]\\n' \"$@\"\nexit 7\n", 0o755);
    let out = run(aws_sso(&[plugins.path()]).args(["hello", "--", "--help", "a b", "", "-v"]));
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[--]\n[--help]\n[a b]\n[]\n[-v]\n");
    assert_eq!(stderr(&out), "");

    let no_args = run(aws_sso(&[plugins.path()]).arg("hello"));
    assert_eq!(no_args.status.code(), Some(7));
    assert_eq!(stdout(&no_args), "[]\n", "printf with no arguments prints its format once");
}

#[test]
fn the_command_beside_aws_sso_wins_over_path() {
    let early = Plugins::new();
    early.add("ls", "echo fake ls\n", 0o755);
    let out = run(aws_sso(&[early.path()]).args(["ls", "--version"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("aws-sso-ls {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn list_shows_each_command_once_with_the_program_that_runs_it() {
    let early = Plugins::new();
    let later = Plugins::new();
    early.add("ls", "echo fake ls\n", 0o755);
    early.add("greet", "echo early\n", 0o755);
    later.add("greet", "echo later\n", 0o755);
    later.add("hello", "echo hello\n", 0o755);
    later.add("notes", "not a program\n", 0o644);
    let out = run(aws_sso(&[early.path(), later.path()]).arg("--list"));
    assert!(out.status.success(), "{}", stderr(&out));
    path_filters(&[(early.path(), "[EARLY]"), (later.path(), "[LATER]")]).bind(|| {
        insta::assert_snapshot!("list", stdout(&out));
    });
    let greet = run(aws_sso(&[early.path(), later.path()]).arg("greet"));
    assert_eq!(stdout(&greet), "early\n", "the listed program is the one that runs");
}

#[test]
fn an_unknown_command_is_a_usage_error_that_suggests_the_closest_name() {
    let plugins = Plugins::new();
    plugins.add("greet", "echo hi\n", 0o755);
    for (name, typed) in
        [("unknown_builtin", "lss"), ("unknown_plugin", "gret"), ("unknown", "xyz")]
    {
        let out = run(aws_sso(&[plugins.path()]).args([typed, "--help"]));
        assert_eq!(out.status.code(), Some(2), "{typed}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{typed}");
        insta::assert_snapshot!(name, stderr(&out));
    }
    let out = run(aws_sso(&[plugins.path()]).args(["help", "lss"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `ls`?"), "{}", stderr(&out));
}

#[test]
fn help_name_shows_that_commands_help() {
    let reference = run(Command::new(workspace_bin("aws-sso-ls")).arg("--help"));
    assert!(reference.status.success());
    for args in [&["help", "ls"][..], &["ls", "--help"]] {
        let out = run(aws_sso(&[]).args(args));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&reference), "{args:?}");
    }

    let plugins = Plugins::new();
    plugins.add("hello", "echo \"hello's help: $*\"\n", 0o755);
    let out = run(aws_sso(&[plugins.path()]).args(["help", "hello"]));
    assert_eq!(stdout(&out), "hello's help: --help\n");
}

#[test]
fn help_lists_the_commands() {
    let out = run(aws_sso(&[]).arg("--help"));
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("help", stdout(&out));
    for args in [&[][..], &["help"]] {
        let same = run(aws_sso(&[]).args(args));
        assert!(same.status.success(), "{args:?}");
        assert_eq!(stdout(&same), stdout(&out), "{args:?} prints the --help text");
    }
    let version = run(aws_sso(&[]).arg("--version"));
    assert_eq!(stdout(&version), format!("aws-sso {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_plugin_is_the_process_so_its_pid_and_signals_are_the_callers_to_see() {
    let plugins = Plugins::new();
    plugins.add("die", "echo $$\nkill -TERM $$\nsleep 5\n", 0o755);
    let mut child =
        aws_sso(&[plugins.path()]).arg("die").stdout(Stdio::piped()).spawn().expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read pid");
    assert_eq!(line.trim(), child.id().to_string(), "the plugin runs as aws-sso's own process");
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(15), "killed by SIGTERM: {status:?}");
}

#[test]
fn a_plugin_that_cannot_be_run_exits_127_with_a_reason() {
    let plugins = Plugins::new();
    let path = plugins.add("broken", "", 0o755);
    std::fs::write(&path, "#!/nonexistent/interpreter\n").expect("write");
    let out = run(aws_sso(&[plugins.path()]).arg("broken"));
    assert_eq!(out.status.code(), Some(127));
    let message = stderr(&out);
    assert!(message.starts_with("aws-sso: error: cannot run "), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("#! line"), "{message}");
}
