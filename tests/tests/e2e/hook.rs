//! The shell integration in real shells: `aws-sso-env init`, the static checks of its scripts,
//! the in-shell guard (driven by a stand-in hook that counts its runs), and the stories a user
//! lives through with the real hook and the emulator, in bash, zsh and fish.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::shells::{
    Session, Shell, Transcript, require, until_refresh_time_passed, write_executable,
};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};

fn init(sandbox: &Sandbox, shell: Shell) -> String {
    let out = sandbox.cmd("aws-sso-env").args(["init", shell.name()]).output().expect("run init");
    assert!(out.status.success(), "init {}: {}", shell.name(), stderr(&out));
    stdout(&out)
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The static check of each shell, on `file`; false when the checker is not installed.
fn static_check(shell: Shell, file: &Path) -> bool {
    let (program, args): (&str, &[&str]) = match shell {
        Shell::Bash => ("shellcheck", &["-s", "bash"]),
        Shell::Zsh => ("zsh", &["-n"]),
        Shell::Fish => ("fish", &["--no-execute"]),
    };
    if !require(program) {
        return false;
    }
    let out = Command::new(program).args(args).arg(file).output().expect("run the checker");
    assert!(
        out.status.success(),
        "{program} {args:?} {}:\n{}{}",
        file.display(),
        stdout(&out),
        stderr(&out)
    );
    true
}

#[test]
fn init_prints_each_script_calling_this_binary() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let bin = sandbox.bin_dir.join("aws-sso-env").display().to_string();
    for shell in Shell::ALL {
        let text = init(&sandbox, shell);
        assert!(text.contains(&format!("'{bin}' hook {}", shell.name())), "{text}");
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&regex_escape(&bin), "[AWS_SSO_ENV]");
        settings.bind(|| insta::assert_snapshot!(format!("init_{}", shell.name()), text));
    }
}

#[test]
fn init_needs_no_config_and_refuses_other_shells() {
    let sandbox = Sandbox::new("[profile broken\nthis is not ini", &[]);
    assert!(init(&sandbox, Shell::Bash).contains("_aws_sso_hook"));
    let out = sandbox.cmd("aws-sso-env").args(["init", "tcsh"]).output().expect("run init");
    assert_eq!(out.status.code(), Some(2));
    with_filters!(sandbox, { insta::assert_snapshot!("init_unknown_shell", stderr(&out)) });
}

#[test]
fn the_scripts_pass_shellcheck_zsh_n_and_fish_no_execute() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    for shell in Shell::ALL {
        let template = repo_file(&format!("shell/aws-sso.{}", shell.name()));
        if !static_check(shell, &template) {
            continue;
        }
        let printed = sandbox.path().join(format!("init.{}", shell.name()));
        std::fs::write(&printed, init(&sandbox, shell)).expect("write the init output");
        static_check(shell, &printed);
    }
}

#[test]
fn nothing_is_installed_in_a_non_interactive_shell() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let bin = sandbox.bin_dir.join("aws-sso-env");
    for shell in Shell::ALL {
        if !require(shell.name()) {
            continue;
        }
        let probe = match shell {
            Shell::Bash => "declare -F _aws_sso_hook; printf '[%s]' \"${PROMPT_COMMAND-}\"",
            Shell::Zsh => {
                "(( ${+functions[_aws_sso_hook]} )) && print defined; print -rn -- \"[$precmd_functions]\""
            }
            Shell::Fish => "functions -q __aws_sso_hook; and echo defined; printf '[]'",
        };
        let script = format!("{}{probe}", shell.init_line(&bin));
        let out = Command::new(shell.name()).arg("-c").arg(&script).output().expect("run");
        assert!(out.status.success(), "{}: {}", shell.name(), stderr(&out));
        let printed = stdout(&out);
        assert!(
            printed.ends_with("[]")
                && !printed.contains("_aws_sso_hook")
                && !printed.contains("defined"),
            "{}: installed in a non-interactive shell: {printed}",
            shell.name()
        );
    }
}

/// A stand-in for `aws-sso-env hook`: logs each run (with the shell pid and state it was given),
/// and answers the bookkeeping the guard reads: the project file (while it exists), the marker,
/// the stamp (set to the newer of the two, as the real hook does) and a refresh time `delta`
/// seconds from now (0: none).
struct FakeHook {
    dir: PathBuf,
}

impl FakeHook {
    fn new(sandbox: &Sandbox) -> Self {
        let dir = sandbox.path().join("guard");
        std::fs::create_dir_all(dir.join("project")).expect("mkdir project");
        std::fs::create_dir_all(dir.join("elsewhere")).expect("mkdir elsewhere");
        std::fs::write(dir.join("marker"), "").expect("write marker");
        std::fs::write(dir.join("project/.aws-sso.yaml"), "account: 1\n").expect("write file");
        std::fs::write(dir.join("delta"), "0").expect("write delta");
        let d = dir.display();
        let script = format!(
            r#"#!/bin/sh
PATH=/usr/bin:/bin
D='{d}'
printf 'run pid=%s state=%s\n' "$_AWS_SSO_SHELL_PID" "$_AWS_SSO_STATE" >> "$D/log"
file=$D/project/.aws-sso.yaml
if [ -e "$file" ] && [ "$file" -nt "$D/marker" ]; then touch -r "$file" "$D/stamp"; else touch -r "$D/marker" "$D/stamp"; fi
[ -e "$file" ] || file=
delta=$(cat "$D/delta")
case $delta in
  0) at=0 ;;
  past) at=$(( $(date +%s) - 1 )); printf 0 > "$D/delta" ;;
  *) at=$(( $(date +%s) + delta )) ;;
esac
if [ "$2" = fish ]; then
  printf "set -g %s '%s'\n" _AWS_SSO_STATE run _AWS_SSO_FILE "$file" _AWS_SSO_MARKER "$D/marker" \
    _AWS_SSO_STAMP "$D/stamp" _AWS_SSO_REFRESH_AT "$at"
else
  printf "%s='%s'\n" _AWS_SSO_STATE run _AWS_SSO_FILE "$file" _AWS_SSO_MARKER "$D/marker" \
    _AWS_SSO_STAMP "$D/stamp" _AWS_SSO_REFRESH_AT "$at"
fi
"#
        );
        write_executable(&dir.join("fake-hook"), &script);
        Self { dir }
    }

    /// The init script of `shell`, calling this stand-in instead of the real hook.
    fn init(&self, sandbox: &Sandbox, shell: Shell) -> String {
        let bin = sandbox.bin_dir.join("aws-sso-env").display().to_string();
        let real = format!("'{bin}' hook");
        let text = init(sandbox, shell);
        assert!(text.contains(&real), "{text}");
        text.replace(&real, &format!("'{}' hook", self.dir.join("fake-hook").display()))
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// `echo '== label' >> log`, which reads the same in the three shells.
    fn mark(&self, label: &str) -> String {
        format!("echo '== {label}' >> '{}'", self.path("log"))
    }

    /// The log, with the shell's pid (logged by the `== shell PID` mark) written `PID`.
    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        let pid = log
            .lines()
            .find_map(|line| line.strip_prefix("== shell "))
            .unwrap_or_else(|| panic!("no `== shell PID` mark in the log:\n{log}"))
            .to_owned();
        log.replace(&format!("=={pid}"), "==PID")
            .replace(&format!("pid={pid} "), "pid=PID ")
            .replace(&format!("== shell {pid}"), "== shell PID")
    }
}

/// The user's own prompt hook, in the rc before ours: it must keep running.
fn user_rc(shell: Shell, fake: &FakeHook) -> String {
    let user_log = fake.path("user.log");
    match shell {
        Shell::Bash => format!("set -u\nPROMPT_COMMAND='echo user >> {user_log}'\n"),
        Shell::Zsh => format!(
            "setopt warn_create_global no_unset\nuser_precmd() {{ echo user >> {user_log} }}\n\
             precmd_functions+=(user_precmd)\n"
        ),
        Shell::Fish => {
            format!("function user_prompt --on-event fish_prompt; echo user >> {user_log}; end\n")
        }
    }
}

/// What the shell's own bookkeeping says is installed, written to `installed`.
fn installed_line(shell: Shell, fake: &FakeHook) -> String {
    let out = fake.path("installed");
    match shell {
        Shell::Bash => format!("declare -p PROMPT_COMMAND > {out}"),
        Shell::Zsh => format!("print -r -- \"$precmd_functions|$chpwd_functions\" > {out}"),
        Shell::Fish => {
            format!("functions --handlers | string match -r '\\S+ (?:user|__aws_sso).*' > {out}")
        }
    }
}

fn pid_line(shell: Shell, fake: &FakeHook) -> String {
    let pid = if shell == Shell::Fish { "$fish_pid" } else { "$$" };
    format!("echo \"== shell {pid}\" >> '{}'", fake.path("log"))
}

fn assert_clean(shell: Shell, transcript: &Transcript) {
    for trouble in ["unbound variable", "created globally", "not found", "rror"] {
        assert!(
            !transcript.output.contains(trouble),
            "{}: `{trouble}` in the output:\n{}",
            shell.name(),
            transcript.output
        );
    }
}

#[test]
fn an_idle_prompt_starts_no_process() {
    for shell in Shell::ALL {
        if !require(shell.name()) || (shell == Shell::Fish && !require("script")) {
            continue;
        }
        let sandbox = Sandbox::new(ONE_SESSION, &[]);
        let fake = FakeHook::new(&sandbox);
        std::fs::write(fake.dir.join("delta"), "3600").expect("write delta");
        let project = fake.path("project");
        let mut lines = vec![pid_line(shell, &fake), format!("cd '{project}'"), fake.mark("in")];
        lines.extend(std::iter::repeat_n("true".to_owned(), 20));
        lines.push(fake.mark("idle"));
        // Only the stand-in's own PATH reaches commands: whatever else a prompt started would
        // say "command not found" (fish's prompt machinery may run programs: it is measured, not
        // held to this).
        let session = Session::new(&sandbox, shell).rc(&fake.init(&sandbox, shell));
        let session = if shell == Shell::Fish { session } else { session.bare_path(&[]) };
        let transcript = session.run(&lines);
        assert_eq!(
            fake.log(),
            "run pid=PID state=\n== shell PID\nrun pid=PID state=run\n== in\n== idle\n",
            "{}: the hook ran on idle prompts; output:\n{}",
            shell.name(),
            transcript.output
        );
        if shell != Shell::Fish {
            assert_clean(shell, &transcript);
        }
    }
}

#[test]
fn the_guard_runs_the_hook_exactly_when_something_changed() {
    for shell in Shell::ALL {
        if !require(shell.name()) || (shell == Shell::Fish && !require("script")) {
            continue;
        }
        let sandbox = Sandbox::new(ONE_SESSION, &[]);
        let fake = FakeHook::new(&sandbox);
        let init = fake.init(&sandbox, shell);
        let rc = format!("{}{init}{init}", user_rc(shell, &fake));
        let file = fake.path("project/.aws-sso.yaml");
        // File times come from a coarse clock (a few ms): the pauses keep two touches apart.
        let status = shell.status_var();
        let lines = vec![
            pid_line(shell, &fake),
            installed_line(shell, &fake),
            format!("cd '{}'", fake.path("project")),
            "true".to_owned(),
            fake.mark("moved, then idle"),
            "sleep 0.1".to_owned(),
            format!("touch '{file}'"),
            "true".to_owned(),
            fake.mark("file edited, then idle"),
            "sleep 0.1".to_owned(),
            format!("touch '{}'", fake.path("marker")),
            "true".to_owned(),
            fake.mark("marker touched, then idle"),
            format!("rm '{file}'"),
            "true".to_owned(),
            fake.mark("file removed, then idle"),
            // A refresh time ahead is waited for; one passed runs the hook once more, at the
            // next prompt check (the stand-in sets `past` once, then none: idle again).
            format!("printf 3600 > '{}'", fake.path("delta")),
            format!("cd '{}'", fake.path("elsewhere")),
            format!("printf 0 > '{}'", fake.path("delta")),
            fake.mark("moved with a refresh time in an hour, then idle"),
            "true".to_owned(),
            format!("printf past > '{}'", fake.path("delta")),
            format!("cd '{}'", fake.path("project")),
            "true".to_owned(),
            fake.mark("moved with a refresh time passed, ran once more"),
            "true".to_owned(),
            fake.mark("then idle"),
            "false".to_owned(),
            format!("echo \"== status {status}\" >> '{}'", fake.path("log")),
        ];
        let transcript = Session::new(&sandbox, shell).rc(&rc).run(&lines);
        let run = "run pid=PID state=run\n";
        let expected = format!(
            "run pid=PID state=\n== shell PID\n{run}== moved, then idle\n{run}== file edited, then idle\n\
             {run}== marker touched, then idle\n{run}== file removed, then idle\n{run}\
             == moved with a refresh time in an hour, then idle\n{run}{run}\
             == moved with a refresh time passed, ran once more\n== then idle\n== status 1\n"
        );
        assert_eq!(fake.log(), expected, "{}; output:\n{}", shell.name(), transcript.output);
        assert_clean(shell, &transcript);

        let installed = std::fs::read_to_string(fake.dir.join("installed")).expect("installed");
        let expected_installed = match shell {
            Shell::Bash => format!(
                "declare -- PROMPT_COMMAND=\"_aws_sso_hook;echo user >> {}\"\n",
                fake.path("user.log")
            ),
            Shell::Zsh => "user_precmd _aws_sso_hook|_aws_sso_hook\n".to_owned(),
            Shell::Fish => {
                "PWD __aws_sso_hook\nfish_prompt user_prompt\nfish_prompt __aws_sso_hook\n"
                    .to_owned()
            }
        };
        assert_eq!(
            installed,
            expected_installed,
            "{}: installed once, beside the user's",
            shell.name()
        );
        let user_runs = std::fs::read_to_string(fake.dir.join("user.log")).unwrap_or_default();
        assert!(
            user_runs.lines().count() >= lines.len(),
            "{}: the user's prompt hook ran {} times for {} lines",
            shell.name(),
            user_runs.lines().count(),
            lines.len()
        );
    }
}

#[test]
fn bash_keeps_a_prompt_command_array() {
    if !require("bash") {
        return;
    }
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let fake = FakeHook::new(&sandbox);
    let init = fake.init(&sandbox, Shell::Bash);
    let user_log = fake.path("user.log");
    let rc = format!(
        "set -u\nPROMPT_COMMAND=('echo one >> {user_log}' 'echo two >> {user_log}')\n{init}{init}"
    );
    let lines = vec![pid_line(Shell::Bash, &fake), installed_line(Shell::Bash, &fake)];
    let transcript = Session::new(&sandbox, Shell::Bash).rc(&rc).run(&lines);
    assert_clean(Shell::Bash, &transcript);
    let installed = std::fs::read_to_string(fake.dir.join("installed")).expect("installed");
    assert_eq!(
        installed,
        format!(
            "declare -a PROMPT_COMMAND=([0]=\"_aws_sso_hook\" [1]=\"echo one >> {user_log}\" \
             [2]=\"echo two >> {user_log}\")\n"
        )
    );
    let user_runs = std::fs::read_to_string(&user_log).expect("the user's commands ran");
    assert!(user_runs.starts_with("one\ntwo\none\ntwo\n"), "{user_runs}");
    assert!(fake.log().starts_with("run pid=PID state=\n== shell PID\n"), "{}", fake.log());
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `dir` (under HOME) holding a `.aws-sso.yaml` for `account` (an id or a name) and `role`,
/// allowed or not.
fn project(sandbox: &Sandbox, dir: &str, account: &str, role: &str, allowed: bool) -> PathBuf {
    let dir = sandbox.path().join(dir);
    std::fs::create_dir_all(&dir).expect("mkdir project");
    // A JSON string is a YAML string: any account name, written safely.
    let account = serde_json::Value::from(account);
    let text = format!("account: {account}\nrole: {role}\nregion: eu-west-1\n");
    std::fs::write(dir.join(".aws-sso.yaml"), text).expect("write .aws-sso.yaml");
    if allowed {
        let out = sandbox.cmd("aws-sso-env").arg("allow").arg(&dir).output().expect("allow");
        assert!(out.status.success(), "allow {}: {}", dir.display(), stderr(&out));
    }
    dir
}

fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

fn shells_to_run() -> Vec<Shell> {
    Shell::ALL
        .into_iter()
        .filter(|shell| require(shell.name()) && (*shell != Shell::Fish || require("script")))
        .collect()
}

/// The credentials the hook manages, as `reports` shows them at `label`.
fn key(transcript: &Transcript, label: &str) -> Option<String> {
    transcript.var(label, "AWS_ACCESS_KEY_ID").map(str::to_owned)
}

#[test]
fn credentials_follow_the_user_through_projects_and_back() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "3"]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess", true);
        std::fs::create_dir_all(sandbox.path().join("a/sub")).expect("mkdir a/sub");
        project(&sandbox, "b", "account-002", "AdministratorAccess", true);
        project(&sandbox, "u", "100000000002", "ReadOnlyAccess", false);
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let edit = "printf 'account: 100000000003\\nrole: ReadOnlyAccess\\n' > .aws-sso.yaml";
        let t = Session::new(&sandbox, shell)
            .rc(&shell.init_line(&bin))
            .env("AWS_PROFILE", "dev")
            .env("AWS_REGION", "us-west-2")
            .run(&lines(&[
                "report start",
                "cd a",
                "report enter",
                "cd sub",
                "report within",
                "cd ../../b",
                "report other",
                "cd ..",
                "report left",
                "cd a",
                edit,
                "report edited",
                "aws-sso-env allow",
                "report allowed",
                "cd ../u",
                "report untrusted",
                "cd ..",
                "false",
                &format!("report status-{}", shell.status_var()),
            ]));
        let name = shell.name();
        assert_eq!(t.var("start", "AWS_PROFILE"), Some("dev"), "{name}: {}", t.output);
        assert_eq!(key(&t, "start"), None, "{name}");

        let enter = t.aws("enter");
        assert!(
            key(&t, "enter").is_some_and(|k| k.starts_with("ASIA")),
            "{name}: {enter:?}\n{}",
            t.output
        );
        for name_value in [
            ("AWS_SSO_ACCOUNT_ID", "100000000001"),
            ("AWS_SSO_ROLE_NAME", "ReadOnlyAccess"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ] {
            assert_eq!(
                enter.get(name_value.0).map(String::as_str),
                Some(name_value.1),
                "{name}: {enter:?}"
            );
        }
        for needed in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"] {
            assert!(enter.contains_key(needed), "{name}: no {needed} in {enter:?}");
        }
        assert!(!enter.contains_key("AWS_PROFILE"), "{name}: AWS_PROFILE is unset while active");

        assert_eq!(t.aws("within"), enter, "{name}: moving within a project changes nothing");
        assert_eq!(t.var("other", "AWS_SSO_ACCOUNT_ID"), Some("100000000002"), "{name}");
        assert_eq!(t.var("other", "AWS_SSO_ROLE_NAME"), Some("AdministratorAccess"), "{name}");
        assert_eq!(
            t.var("other", "AWS_SSO_PROFILE"),
            Some("account-002:AdministratorAccess"),
            "{name}"
        );
        assert_ne!(key(&t, "other"), key(&t, "enter"), "{name}");

        let left = t.aws("left");
        let expected: std::collections::BTreeMap<String, String> =
            [("AWS_PROFILE", "dev"), ("AWS_REGION", "us-west-2")]
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .chain(t.aws("start").into_iter().filter(|(n, _)| n == "AWS_ENDPOINT_URL"))
                .collect();
        assert_eq!(left, expected, "{name}: leaving restores the user's variables");

        assert_eq!(key(&t, "edited"), None, "{name}: an edit revokes trust\n{}", t.output);
        assert_eq!(
            t.var("allowed", "AWS_SSO_ACCOUNT_ID"),
            Some("100000000003"),
            "{name}: allow is picked up without cd\n{}",
            t.output
        );
        assert_eq!(key(&t, "untrusted"), None, "{name}");
        assert_eq!(t.var("untrusted", "AWS_PROFILE"), Some("dev"), "{name}");
        assert!(t.reports.contains_key("status-1"), "{name}: $? kept: {:?}", t.reports.keys());

        with_filters!(sandbox, {
            insta::assert_snapshot!("hook_story_messages", t.messages.join("\n"))
        });
    }
}

#[test]
fn the_users_own_credentials_are_left_alone() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "2"]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess", true);
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let t = Session::new(&sandbox, shell)
            .rc(&shell.init_line(&bin))
            .env("AWS_ACCESS_KEY_ID", "AKIAUSERSOWNKEY")
            .env("AWS_SECRET_ACCESS_KEY", "users/own/secret")
            .run(&lines(&["cd a", "report in", "cd ..", "cd a", "report again"]));
        for label in ["in", "again"] {
            assert_eq!(key(&t, label).as_deref(), Some("AKIAUSERSOWNKEY"), "{}", shell.name());
            assert_eq!(t.var(label, "AWS_SECRET_ACCESS_KEY"), Some("users/own/secret"));
            assert_eq!(t.var(label, "AWS_SSO_ACCOUNT_ID"), None, "{}", shell.name());
        }
        with_filters!(sandbox, {
            insta::assert_snapshot!("hook_own_credentials_messages", t.messages.join("\n"))
        });
    }
}

#[test]
fn credentials_are_refreshed_before_they_expire_and_unset_when_the_login_does() {
    for shell in shells_to_run() {
        // The emulator's clock runs 1 s behind and hands out whole seconds: credentials of 302 s
        // expire 301 s after the second they are fetched in, so they are due for refresh (5 min
        // before they expire) at the next whole second. The login lasts a minute and cannot be
        // refreshed; the test ends it by both clocks instead of waiting.
        let sandbox = Sandbox::listed(&[
            "--accounts",
            "2",
            "--credentials-ttl",
            "302",
            "--clock-offset-ms",
            "-1000",
            "--token-ttl",
            "60",
            "--no-refresh-tokens",
        ]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess", true);
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let emulator = sandbox.bin_dir.join("aws-sso-emulator");
        let token = sandbox.token_path("corp");
        let t = Session::new(&sandbox, shell).rc(&shell.init_line(&bin)).run(&[
            "cd a".to_owned(),
            "report enter".to_owned(),
            until_refresh_time_passed(shell),
            "report refreshed".to_owned(),
            // One line, so that no prompt (and no hook run) falls between moving the emulator's
            // clock and ending the login: a refresh in between, on a slow machine, would fetch
            // credentials by the moved clock and push the next refresh a minute away.
            format!(
                "'{}' clock '{}' 61000 > /dev/null; sed -i -E 's/\"expiresAt\": *\"[^\"]*\"/\"expiresAt\":\"2020-01-01T00:00:00Z\"/' '{}'",
                emulator.display(),
                sandbox.emulator.url,
                token.display()
            ),
            until_refresh_time_passed(shell),
            "report expired".to_owned(),
        ]);
        let name = shell.name();
        let first =
            key(&t, "enter").unwrap_or_else(|| panic!("{name}: no credentials\n{}", t.output));
        let second = key(&t, "refreshed")
            .unwrap_or_else(|| panic!("{name}: none after the refresh time\n{}", t.output));
        assert_ne!(
            first, second,
            "{name}: credentials were not refreshed on an idle prompt\n{}",
            t.output
        );
        assert_eq!(t.aws("expired").get("AWS_SESSION_TOKEN"), None, "{name}\n{}", t.output);
        assert_eq!(key(&t, "expired"), None, "{name}: stale credentials left\n{}", t.output);
        let told: Vec<_> = t.messages.iter().filter(|m| m.contains("aws-sso-login")).collect();
        assert_eq!(told.len(), 1, "{name}: one line naming aws-sso-login: {:?}", t.messages);
    }
}

#[test]
fn hostile_names_and_directories_are_values_never_code() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "8", "--name-style", "hostile"]);
        let mut steps = Vec::new();
        let mut expected = Vec::new();
        for n in [1, 2, 3, 4, 5, 8] {
            let dir = format!("p{n}");
            project(&sandbox, &dir, hostile_name(n), "AdministratorAccess", true);
            steps.push(format!("cd ~/{dir}"));
            steps.push(format!("report p{n}"));
            expected.push((format!("p{n}"), n));
        }
        // Spaces, quotes, a command substitution and a newline: reached with a glob.
        project(
            &sandbox,
            "it's \"a\" $(touch pwned) dir\nwith a newline",
            hostile_name(4),
            "AdministratorAccess",
            true,
        );
        steps.push("cd ~/it*".to_owned());
        steps.push("report odd-dir".to_owned());
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let t = Session::new(&sandbox, shell).rc(&shell.init_line(&bin)).run(&steps);
        for (label, n) in &expected {
            let want = Some(hostile_name(*n));
            assert_eq!(
                t.var(label, "AWS_SSO_ACCOUNT_NAME"),
                want,
                "{}: {label}\n{}",
                shell.name(),
                t.output
            );
            assert_eq!(
                t.var(label, "AWS_SSO_PROFILE").map(str::to_owned),
                want.map(|w| format!("{w}:AdministratorAccess")),
                "{}",
                shell.name()
            );
        }
        assert_eq!(
            t.var("odd-dir", "AWS_SSO_ACCOUNT_NAME"),
            Some("x; touch pwned; 004"),
            "{}\n{}",
            shell.name(),
            t.output
        );
        let pwned: Vec<_> =
            walk(sandbox.path()).into_iter().filter(|p| p.ends_with("pwned")).collect();
        assert!(pwned.is_empty(), "{}: a name was executed: {pwned:?}", shell.name());
    }
}

/// The names `--name-style hostile` gives accounts 1 to 5 and 8 (6 and 7 share one name).
fn hostile_name(n: usize) -> &'static str {
    match n {
        1 => "it's \"prod\" 001",
        2 => "$HOME ${PATH} $(id) 002",
        3 => "`touch pwned` 003",
        4 => "x; touch pwned; 004",
        5 => "Zürich café Ωμέγα 東京 005",
        8 => r"-n --help, 100% {} \ a/b | <c> & *? 008",
        _ => panic!("no unique hostile name for account {n}"),
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

/// The user's own `cd` (in bash and zsh a function; fish's is already one, kept under another
/// name), defined before the init line: it must still run, writing a line to `marker`.
fn users_cd(shell: Shell, marker: &Path) -> String {
    let marker = marker.display();
    match shell {
        Shell::Bash => format!("set -u\ncd() {{ echo cd >> '{marker}'; builtin cd \"$@\"; }}\n"),
        Shell::Zsh => format!("cd() {{ echo cd >> '{marker}'; builtin cd \"$@\" }}\n"),
        Shell::Fish => format!(
            "functions --copy cd fish_cd\nfunction cd; echo cd >> '{marker}'; fish_cd $argv; end\n"
        ),
    }
}

#[test]
fn a_cd_on_the_command_line_applies_before_the_next_command_runs() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "2"]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess", true);
        project(&sandbox, "b", "100000000002", "ReadOnlyAccess", true);
        std::fs::write(sandbox.path().join("goto-b"), "cd ~/b\n").expect("write goto-b");
        let marker = sandbox.path().join("cd.log");
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let status = shell.status_var();
        let t = Session::new(&sandbox, shell)
            .rc(&users_cd(shell, &marker))
            // Twice, as an rc file sourced again does: the user's cd is still wrapped once.
            .rc(&shell.init_line(&bin))
            .rc(&shell.init_line(&bin))
            .run(&[
                "cd ~/b && report and".to_owned(),
                "cd - && report back".to_owned(),
                "cd ~/a; report semicolon".to_owned(),
                "pushd ~/b > /dev/null && report pushd".to_owned(),
                "popd > /dev/null && report popd".to_owned(),
                "cd && report no-arguments".to_owned(),
                "source ~/goto-b && report sourced".to_owned(),
                "cd ~/a".to_owned(),
                format!("cd /nonexistent && report not-run; report status-{status}"),
                "report after-failed-cd".to_owned(),
            ]);
        let name = shell.name();
        let account = |label: &str| t.var(label, "AWS_SSO_ACCOUNT_ID");
        for (label, expected) in [
            ("and", Some("100000000002")),
            ("back", None),
            ("semicolon", Some("100000000001")),
            ("pushd", Some("100000000002")),
            ("popd", Some("100000000001")),
            ("no-arguments", None),
            ("sourced", Some("100000000002")),
            ("after-failed-cd", Some("100000000001")),
        ] {
            assert_eq!(account(label), expected, "{name}: at {label}\n{}", t.output);
            assert_eq!(
                key(&t, label).is_some(),
                expected.is_some(),
                "{name}: credentials at {label}"
            );
        }
        assert_ne!(key(&t, "and"), key(&t, "semicolon"), "{name}");
        assert!(!t.reports.contains_key("not-run"), "{name}: ran after a failed cd");
        assert!(
            t.reports.contains_key("status-1"),
            "{name}: cd's status lost: {:?}\n{}",
            t.reports.keys(),
            t.output
        );
        let user_cds = std::fs::read_to_string(&marker).unwrap_or_default().lines().count();
        // Seven cds on the lines (fish's pushd and popd call cd too).
        assert!(user_cds >= 7, "{name}: the user's cd ran {user_cds} times\n{}", t.output);
        for trouble in ["unbound variable", "not found", "aws-sso:"] {
            assert!(!t.output.contains(trouble), "{name}: `{trouble}`:\n{}", t.output);
        }
    }
}

#[test]
fn bash_leaves_cd_pushd_and_popd_alone_in_a_non_interactive_shell() {
    if !require("bash") {
        return;
    }
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let bin = sandbox.bin_dir.join("aws-sso-env");
    let script = format!(
        "{}declare -F cd pushd popd _aws_sso_chpwd; printf '[%s]' \"$(type -t cd)\"",
        Shell::Bash.init_line(&bin)
    );
    let out = Command::new("bash").arg("-c").arg(&script).output().expect("run bash");
    assert_eq!(stdout(&out), "[builtin]", "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn stamps_the_marker_and_allows_are_private_under_umask_000() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let dir = sandbox.path().join("p");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(".aws-sso.yaml"), "account: 100000000001\nrole: ReadOnlyAccess\n")
        .expect("write");
    let bin = sandbox.bin_dir.join("aws-sso-env");
    // The most permissive umask a user can have: our modes must not depend on theirs.
    let run = |args: &str| {
        Command::new("sh")
            .args(["-c", &format!("umask 000; exec \"$0\" {args}"), &bin.to_string_lossy()])
            .env_clear()
            .env("HOME", sandbox.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", &sandbox.emulator.url)
            .env("_AWS_SSO_SHELL_PID", "4242")
            .env("PWD", &dir)
            .current_dir(&dir)
            .output()
            .expect("sh")
    };
    let allowed = run("allow");
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    let hook = run("hook bash");
    assert!(hook.status.success(), "{}", stderr(&hook));
    let allow_dir = sandbox.path().join(".local/share/aws-sso/allow");
    let record = std::fs::read_dir(&allow_dir).expect("allow dir").next().expect("a record");
    for file in [
        sandbox.path().join(".cache/aws-sso/hook/stamp-4242"),
        sandbox.path().join(".cache/aws-sso/hook-marker"),
        record.expect("entry").path(),
    ] {
        let mode = std::fs::metadata(&file).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}

#[test]
fn a_cd_in_a_subshell_runs_with_that_directorys_credentials_and_leaves_the_parent_alone() {
    // fish has no subshell: `begin; cd B; end` moves the shell itself.
    for shell in [Shell::Bash, Shell::Zsh] {
        if !require(shell.name()) {
            continue;
        }
        let sandbox = Sandbox::listed(&["--accounts", "2"]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess", true);
        project(&sandbox, "b", "100000000002", "ReadOnlyAccess", true);
        std::fs::create_dir_all(sandbox.path().join("a/sub")).expect("mkdir a/sub");
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let t = Session::new(&sandbox, shell).rc(&shell.init_line(&bin)).run(&[
            "cd ~/a".to_owned(),
            "report parent-before".to_owned(),
            "(cd ~/b && report subshell-b)".to_owned(),
            "report parent-after".to_owned(),
            "(cd ~/a/sub && report subshell-same-project)".to_owned(),
            "(cd ~ && report subshell-no-project)".to_owned(),
            "x=$(cd ~/b && report substitution-b)".to_owned(),
            "(pushd ~/b > /dev/null && report subshell-pushd)".to_owned(),
            "(cd ~/b && cd ~/a && report subshell-back)".to_owned(),
            "true".to_owned(),
            "report parent-last".to_owned(),
        ]);
        let name = shell.name();
        let account = |label: &str| t.var(label, "AWS_SSO_ACCOUNT_ID");
        for (label, expected) in [
            ("parent-before", Some("100000000001")),
            ("subshell-b", Some("100000000002")),
            ("parent-after", Some("100000000001")),
            ("subshell-same-project", Some("100000000001")),
            ("subshell-no-project", None),
            ("substitution-b", Some("100000000002")),
            ("subshell-pushd", Some("100000000002")),
            ("subshell-back", Some("100000000001")),
            ("parent-last", Some("100000000001")),
        ] {
            assert_eq!(account(label), expected, "{name}: at {label}\n{}", t.output);
            assert_eq!(key(&t, label).is_some(), expected.is_some(), "{name}: keys at {label}");
        }
        assert_ne!(key(&t, "subshell-b"), key(&t, "parent-before"), "{name}");
        for label in ["parent-after", "subshell-same-project", "parent-last"] {
            assert_eq!(key(&t, label), key(&t, "parent-before"), "{name}: at {label}");
        }
        for trouble in ["unbound variable", "not found", "command not found"] {
            assert!(!t.output.contains(trouble), "{name}: `{trouble}`:\n{}", t.output);
        }
    }
}

#[test]
fn a_subshell_cd_runs_the_hook_only_into_another_project_and_the_parent_stays_idle() {
    for shell in [Shell::Bash, Shell::Zsh] {
        if !require(shell.name()) {
            continue;
        }
        let sandbox = Sandbox::new(ONE_SESSION, &[]);
        let fake = FakeHook::new(&sandbox);
        std::fs::write(fake.dir.join("delta"), "3600").expect("write delta");
        std::fs::create_dir_all(fake.dir.join("project/sub")).expect("mkdir project/sub");
        let (project, elsewhere) = (fake.path("project"), fake.path("elsewhere"));
        let mut lines = vec![pid_line(shell, &fake), format!("cd '{project}'"), fake.mark("in")];
        lines.push(format!("(cd '{elsewhere}' && true)"));
        lines.push(fake.mark("other"));
        // Within the same project, in a subshell as a prompt or completion function does it.
        lines.push(format!("(cd '{project}/sub' && true)"));
        lines.push("x=$(cd sub && cd .. && echo here)".to_owned());
        lines.push(fake.mark("same"));
        lines.extend(std::iter::repeat_n("true".to_owned(), 10));
        lines.push(fake.mark("idle"));
        let session = Session::new(&sandbox, shell).rc(&fake.init(&sandbox, shell)).bare_path(&[]);
        let transcript = session.run(&lines);
        let log = fake.log();
        let name = shell.name();
        let (before, after) = log.split_once("== in\n").unwrap_or_else(|| panic!("{name}: {log}"));
        assert_eq!(before, "run pid=PID state=\n== shell PID\nrun pid=PID state=run\n", "{name}");
        let (subshell, rest) = after.split_once('\n').unwrap_or_else(|| panic!("{name}: {log}"));
        // Its own pid, so the parent's stamp never moves; the parent's state as it was.
        assert!(
            subshell.starts_with("run pid=") && subshell.ends_with(" state=run"),
            "{name}: {log}"
        );
        assert!(!subshell.contains("pid=PID"), "{name}: the subshell used the parent's pid: {log}");
        assert_eq!(rest, "== other\n== same\n== idle\n", "{name}: {log}\n{}", transcript.output);
        assert_clean(shell, &transcript);
    }
}
