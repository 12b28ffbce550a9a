//! `aws-sso use` in real shells: the `aws-sso` shell function that `aws-sso-env init` defines
//! switches the shell it runs in to an account and role, in every directory and before any
//! project file, keeps the credentials fresh, gives back what the shell had on `--clear`, and
//! hands every other command to the `aws-sso` program untouched.

use std::path::{Path, PathBuf};

use aws_sso_tests::sandbox::Sandbox;
use aws_sso_tests::shells::{
    Session, Shell, Transcript, require, sh_quote, until_refresh_time_passed, write_executable,
};
use aws_sso_tests::{stderr, stdout};

fn shells_to_run() -> Vec<Shell> {
    Shell::ALL
        .into_iter()
        .filter(|shell| require(shell.name()) && (*shell != Shell::Fish || require("script")))
        .collect()
}

/// `dir` (under HOME) holding an allowed `.aws-sso.yaml` for `account` and `role`.
fn project(sandbox: &Sandbox, dir: &str, account: &str, role: &str) -> PathBuf {
    let dir = sandbox.path().join(dir);
    std::fs::create_dir_all(&dir).expect("mkdir project");
    let text = format!("account: {account}\nrole: {role}\nregion: eu-west-1\n");
    std::fs::write(dir.join(".aws-sso.yaml"), text).expect("write .aws-sso.yaml");
    let out = sandbox.cmd("aws-sso-env").arg("allow").arg(&dir).output().expect("allow");
    assert!(out.status.success(), "allow {}: {}", dir.display(), stderr(&out));
    dir
}

fn key(t: &Transcript, label: &str) -> Option<String> {
    t.var(label, "AWS_ACCESS_KEY_ID").map(str::to_owned)
}

/// The exit status of the line before, as a report label: `LABEL-STATUS`.
fn report_status(shell: Shell, label: &str) -> String {
    format!("report {label}-{}", shell.status_var())
}

fn assert_reported(t: &Transcript, label: &str, name: &str) {
    assert!(
        t.reports.contains_key(label),
        "{name}: no `{label}` in {:?}\n{}",
        t.reports.keys(),
        t.output
    );
}

#[test]
fn use_wins_over_the_project_file_survives_cd_and_clear_gives_back_the_shells_own_values() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "3"]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess");
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let t = Session::new(&sandbox, shell)
            .rc(&shell.init_line(&bin))
            .env("AWS_PROFILE", "dev")
            .env("AWS_REGION", "us-west-2")
            .run(&[
                "report start".to_owned(),
                "aws-sso-env status -o json > ~/status-none.json".to_owned(),
                "aws-sso use account-002 AdministratorAccess".to_owned(),
                report_status(shell, "used"),
                "cd a".to_owned(),
                "report in-project".to_owned(),
                "cd ..".to_owned(),
                "report left".to_owned(),
                "aws-sso use --clear".to_owned(),
                report_status(shell, "cleared"),
                "cd a".to_owned(),
                "report project".to_owned(),
                "aws-sso use --sso-session no-such-session 100000000003 ReadOnlyAccess".to_owned(),
                report_status(shell, "unknown-session"),
                "aws-sso use --sso-session corp 100000000003 ReadOnlyAccess".to_owned(),
                "report used-in-project".to_owned(),
                "aws-sso-env status -o json > ~/status-used.json".to_owned(),
                "aws-sso use --clear".to_owned(),
                "report cleared-in-project".to_owned(),
                "aws-sso-env status -o json > ~/status-project.json".to_owned(),
                "cd ..".to_owned(),
                "aws-sso use no-such-account".to_owned(),
                report_status(shell, "unknown"),
                // AWS_PROFILE names an account (dev's): without it, nothing is named, and with no
                // terminal for the picker that is the usual error.
                "AWS_PROFILE= aws-sso use".to_owned(),
                report_status(shell, "nothing-named"),
                "aws-sso use --clear".to_owned(),
                report_status(shell, "nothing-to-clear"),
                "report end".to_owned(),
            ]);
        let name = shell.name();
        assert_reported(&t, "used-0", name);
        let used = t.aws("used-0");
        for (var, value) in [
            ("AWS_SSO_ACCOUNT_ID", "100000000002"),
            ("AWS_SSO_ACCOUNT_NAME", "account-002"),
            ("AWS_SSO_ROLE_NAME", "AdministratorAccess"),
            ("AWS_SSO_PROFILE", "account-002:AdministratorAccess"),
        ] {
            assert_eq!(
                used.get(var).map(String::as_str),
                Some(value),
                "{name}: {used:?}\n{}",
                t.output
            );
        }
        for needed in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"] {
            assert!(used.contains_key(needed), "{name}: no {needed}");
        }
        assert!(key(&t, "used-0").is_some_and(|k| k.starts_with("ASIA")), "{name}");
        assert!(!used.contains_key("AWS_PROFILE"), "{name}: AWS_PROFILE is unset while in use");
        // Its own region is not known here: the shell's stays.
        assert_eq!(used.get("AWS_REGION").map(String::as_str), Some("us-west-2"), "{name}");
        let exported = t.var("used-0", "_AWS_SSO_USED").unwrap_or_default();
        assert!(exported.contains("\"accountId\":\"100000000002\""), "{name}: {exported}");
        for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
            let value = used.get(secret).expect("a secret");
            assert!(!exported.contains(value.as_str()), "{name}: a secret in _AWS_SSO_USED");
        }

        // The use wins over the project file, and stays when the shell moves.
        assert_eq!(t.aws("in-project"), used, "{name}: in the project\n{}", t.output);
        assert_eq!(t.aws("left"), used, "{name}: after leaving the project");

        // Cleared: exactly what the shell had.
        assert_reported(&t, "cleared-0", name);
        assert_eq!(t.aws("cleared-0"), t.aws("start"), "{name}: --clear restores\n{}", t.output);
        assert_eq!(t.var("cleared-0", "_AWS_SSO_USED"), None, "{name}");
        assert_eq!(t.var("project", "AWS_SSO_ACCOUNT_ID"), Some("100000000001"), "{name}");

        // Within a project, the use wins, and clearing gives the project's credentials back.
        assert_eq!(t.var("used-in-project", "AWS_SSO_ACCOUNT_ID"), Some("100000000003"), "{name}");
        assert_eq!(t.var("used-in-project", "AWS_REGION"), Some("us-west-2"), "{name}");
        assert_eq!(
            t.var("cleared-in-project", "AWS_SSO_ACCOUNT_ID"),
            Some("100000000001"),
            "{name}"
        );
        assert_eq!(t.var("cleared-in-project", "AWS_REGION"), Some("eu-west-1"), "{name}");

        // `aws-sso-env status` says which applies.
        let status = |file: &str| -> serde_json::Value {
            let text = std::fs::read_to_string(sandbox.path().join(file)).expect("status");
            serde_json::from_str(&text).expect("status JSON")
        };
        let used_source = "aws-sso use (this shell, in every directory)";
        // Before: the profile of AWS_PROFILE, as for any command.
        assert_eq!(status("status-none.json")["source"], "profile dev", "{name}");
        let in_use = status("status-used.json");
        assert_eq!(in_use["source"], used_source, "{name}");
        assert_eq!(in_use["accountId"], "100000000003", "{name}: {in_use}");
        assert!(in_use["projectFile"].as_str().is_some_and(|p| p.ends_with("a/.aws-sso.yaml")));
        let project_status = status("status-project.json");
        assert_eq!(project_status["source"], "project file", "{name}");
        assert_eq!(project_status["accountId"], "100000000001", "{name}");

        // Bad input: a message, a non-zero status, and the shell as it was.
        // A failed use leaves the shell as it was: here, in the project, with its account.
        let failed = t.reports.keys().find(|k| k.starts_with("unknown-session-")).expect("report");
        assert_eq!(t.var(failed, "AWS_SSO_ACCOUNT_ID"), Some("100000000001"), "{name}");
        for label in ["unknown", "nothing-named", "unknown-session"] {
            let status = t
                .reports
                .keys()
                .find_map(|k| k.strip_prefix(&format!("{label}-")))
                .unwrap_or_else(|| panic!("{name}: no {label} report\n{}", t.output));
            assert_ne!(status, "0", "{name}: {label} succeeded\n{}", t.output);
        }
        assert!(
            t.output.contains("no-such-account"),
            "{name}: the name in the message\n{}",
            t.output
        );
        assert!(t.output.contains("No account and role given"), "{name}\n{}", t.output);
        assert_reported(&t, "nothing-to-clear-0", name);
        assert_eq!(
            t.aws("end"),
            t.aws("start"),
            "{name}: bad input changed the shell\n{}",
            t.output
        );
        assert!(
            t.messages
                .iter()
                .any(|m| m.contains("this shell uses account-002:AdministratorAccess")),
            "{name}: {:?}",
            t.messages
        );
        assert!(
            t.messages.iter().any(|m| m.contains("no longer uses account-002:AdministratorAccess")),
            "{name}: {:?}",
            t.messages
        );
        assert!(
            t.messages.iter().any(|m| m.contains("nothing to clear")),
            "{name}: {:?}",
            t.messages
        );
    }
}

#[test]
fn a_used_role_is_refreshed_before_it_expires() {
    for shell in shells_to_run() {
        // As in the hook's refresh test: credentials of 302 s, fetched by a clock 1 s behind,
        // are due for refresh (5 min before they expire) at the next whole second.
        let sandbox = Sandbox::listed(&[
            "--accounts",
            "2",
            "--credentials-ttl",
            "302",
            "--clock-offset-ms",
            "-1000",
        ]);
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let t = Session::new(&sandbox, shell).rc(&shell.init_line(&bin)).run(&[
            "aws-sso use 100000000001 ReadOnlyAccess".to_owned(),
            "report used".to_owned(),
            until_refresh_time_passed(shell),
            "report refreshed".to_owned(),
            "cd /".to_owned(),
            "report moved".to_owned(),
        ]);
        let name = shell.name();
        let first =
            key(&t, "used").unwrap_or_else(|| panic!("{name}: no credentials\n{}", t.output));
        let second = key(&t, "refreshed")
            .unwrap_or_else(|| panic!("{name}: none after refresh\n{}", t.output));
        assert_ne!(first, second, "{name}: the used role was not refreshed\n{}", t.output);
        for label in ["refreshed", "moved"] {
            assert_eq!(t.var(label, "AWS_SSO_ACCOUNT_ID"), Some("100000000001"), "{name}: {label}");
            assert_eq!(
                t.var(label, "AWS_SSO_ROLE_NAME"),
                Some("ReadOnlyAccess"),
                "{name}: {label}"
            );
        }
    }
}

#[test]
fn the_function_passes_every_other_command_and_its_status_through() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "2"]);
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let session = Session::new(&sandbox, shell).rc(&shell.init_line(&bin));
        // A plugin on PATH (the session's own bin directory): its arguments, one a line.
        let args_file = sandbox.path().join("plugin-args");
        let plugin = format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {}\nexit 7\n",
            sh_quote(&args_file.to_string_lossy())
        );
        let session_bin = sandbox.path().join(format!("shell-{}/bin", shell.name()));
        write_executable(&session_bin.join("aws-sso-xplug"), &plugin);
        let t = session.run(&[
            "aws-sso xplug 'a b' --flag '$HOME' use".to_owned(),
            report_status(shell, "plugin"),
            "aws-sso ls > ~/ls.out".to_owned(),
            report_status(shell, "ls"),
            "aws-sso login --help > ~/login.out".to_owned(),
            report_status(shell, "login-help"),
            "aws-sso no-such-command 2> ~/nosuch.err".to_owned(),
            report_status(shell, "unknown"),
            "aws-sso use --help 2> ~/use-help.err > ~/use-help.out".to_owned(),
            report_status(shell, "use-help"),
            "report end".to_owned(),
        ]);
        let name = shell.name();
        assert_reported(&t, "plugin-7", name);
        assert_eq!(
            std::fs::read_to_string(&args_file).expect("the plugin ran"),
            "a b\n--flag\n$HOME\nuse\n",
            "{name}"
        );
        assert_reported(&t, "ls-0", name);
        let direct = sandbox.cmd("aws-sso").arg("ls").output().expect("aws-sso ls");
        let through = std::fs::read_to_string(sandbox.path().join("ls.out")).expect("ls.out");
        assert_eq!(through, stdout(&direct), "{name}: ls through the function");
        assert_reported(&t, "login-help-0", name);
        let help = std::fs::read_to_string(sandbox.path().join("login.out")).expect("login.out");
        assert!(help.contains("aws-sso-login"), "{name}: {help}");
        assert_reported(&t, "unknown-2", name);
        let nosuch = std::fs::read_to_string(sandbox.path().join("nosuch.err")).expect("err");
        assert!(nosuch.contains("no such command"), "{name}: {nosuch}");
        // `use --help` is shown, on stderr, and never evaluated.
        assert_reported(&t, "use-help-0", name);
        let use_help = std::fs::read_to_string(sandbox.path().join("use-help.err")).expect("err");
        assert!(use_help.contains("aws-sso use"), "{name}: {use_help}");
        let out = std::fs::read_to_string(sandbox.path().join("use-help.out")).expect("out");
        assert_eq!(out, "", "{name}");
        assert_eq!(t.var("end", "AWS_SSO_ACCOUNT_ID"), None, "{name}");
        assert!(!t.output.contains("command not found"), "{name}: {}", t.output);
    }
}

#[test]
fn the_program_alone_says_use_needs_the_shell_integration() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let out = sandbox.cmd("aws-sso").args(["use", "account-001"]).output().expect("aws-sso");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("aws-sso-env init"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let out = sandbox.cmd("aws-sso-env").args(["use", "account-001"]).output().expect("env");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("aws-sso-env init"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

/// `bin` wrapped so that each run logs its first argument (`hook` or `use`) to `log`.
fn counting_wrapper(dir: &Path, bin: &Path, log: &Path) -> PathBuf {
    let wrapper = dir.join("counting-aws-sso-env");
    let text = format!(
        "#!/bin/sh\necho \"run $1\" >> {}\nexec {} \"$@\"\n",
        sh_quote(&log.to_string_lossy()),
        sh_quote(&bin.to_string_lossy())
    );
    write_executable(&wrapper, &text);
    wrapper
}

#[test]
fn an_idle_prompt_with_a_use_active_starts_no_process() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "2"]);
        project(&sandbox, "a", "100000000001", "ReadOnlyAccess");
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let log = sandbox.path().join("runs.log");
        let wrapper = counting_wrapper(sandbox.path(), &bin, &log);
        let init = sandbox.cmd("aws-sso-env").args(["init", shell.name()]).output().expect("init");
        let real = format!("'{}'", bin.display());
        let text = stdout(&init);
        assert!(text.contains(&format!("{real} hook")) && text.contains(&format!("{real} use")));
        let rc = text.replace(&real, &sh_quote(&wrapper.to_string_lossy()));
        let mark =
            |label: &str| format!("echo '== {label}' >> {}", sh_quote(&log.to_string_lossy()));
        let mut steps =
            vec![mark("start"), "aws-sso use 100000000002 ReadOnlyAccess".to_owned(), mark("used")];
        steps.extend(std::iter::repeat_n("true".to_owned(), 20));
        steps.push(mark("idle"));
        steps.push("cd a".to_owned());
        steps.push(mark("moved"));
        steps.extend(std::iter::repeat_n("true".to_owned(), 10));
        steps.push(mark("idle in a project"));
        steps.push("report end".to_owned());
        // Only the wrapper's absolute paths and `report` reach commands: anything else a prompt
        // started would say "command not found" (fish's prompt machinery is measured, not held
        // to this).
        let session = Session::new(&sandbox, shell).rc(&rc);
        let session = if shell == Shell::Fish { session } else { session.bare_path(&[]) };
        let t = session.run(&steps);
        let name = shell.name();
        let runs = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(
            runs,
            "run hook\n== start\nrun use\n== used\n== idle\nrun hook\n== moved\n== idle in a project\n",
            "{name}: processes on idle prompts\n{}",
            t.output
        );
        assert_eq!(
            t.var("end", "AWS_SSO_ACCOUNT_ID"),
            Some("100000000002"),
            "{name}\n{}",
            t.output
        );
        if shell != Shell::Fish {
            for trouble in ["command not found", "unbound variable", "rror"] {
                assert!(!t.output.contains(trouble), "{name}: `{trouble}`\n{}", t.output);
            }
        }
    }
}

/// The names `--name-style hostile` gives accounts 1 to 5 and 8.
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

#[test]
fn hostile_account_names_in_use_are_values_never_code() {
    for shell in shells_to_run() {
        let sandbox = Sandbox::listed(&["--accounts", "8", "--name-style", "hostile"]);
        let bin = sandbox.bin_dir.join("aws-sso-env");
        let mut steps = Vec::new();
        for n in [1, 2, 3, 4, 5, 8] {
            steps.push(format!("aws-sso use 10000000000{n} AdministratorAccess"));
            steps.push(format!("report h{n}"));
        }
        // Named by the hostile name itself (no backslash or quote: the same in the three shells).
        steps.push(format!("aws-sso use '{}' AdministratorAccess", hostile_name(4)));
        steps.push("report by-name".to_owned());
        steps.push("aws-sso use --clear".to_owned());
        steps.push("report cleared".to_owned());
        let t = Session::new(&sandbox, shell).rc(&shell.init_line(&bin)).run(&steps);
        let name = shell.name();
        for n in [1, 2, 3, 4, 5, 8] {
            let label = format!("h{n}");
            assert_eq!(
                t.var(&label, "AWS_SSO_ACCOUNT_NAME"),
                Some(hostile_name(n)),
                "{name}: {label}\n{}",
                t.output
            );
            assert_eq!(
                t.var(&label, "AWS_SSO_PROFILE").map(str::to_owned),
                Some(format!("{}:AdministratorAccess", hostile_name(n))),
                "{name}"
            );
            let used: serde_json::Value =
                serde_json::from_str(t.var(&label, "_AWS_SSO_USED").expect("_AWS_SSO_USED"))
                    .expect("JSON");
            assert_eq!(used["accountName"], hostile_name(n), "{name}");
        }
        assert_eq!(
            t.var("by-name", "AWS_SSO_ACCOUNT_ID"),
            Some("100000000004"),
            "{name}\n{}",
            t.output
        );
        assert_eq!(t.var("cleared", "AWS_SSO_ACCOUNT_NAME"), None, "{name}");
        let pwned = walk(sandbox.path()).into_iter().filter(|p| p.ends_with("pwned")).count();
        assert_eq!(pwned, 0, "{name}: a name was executed");
        for message in &t.messages {
            assert!(!message.contains('\u{1b}'), "{name}: {message}");
        }
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

/// What `aws-sso` answers when `shell` asks for the candidates of the last word of `words`.
fn complete(sandbox: &Sandbox, shell: &str, words: &[&str]) -> Vec<String> {
    let mut cmd = sandbox.std_cmd("aws-sso");
    cmd.env("COMPLETE", shell).arg("--").args(words);
    if shell != "fish" {
        cmd.env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string()).env("_CLAP_IFS", "\n");
    }
    let out = cmd.output().expect("run completion");
    assert!(out.status.success(), "{words:?}: {}", stderr(&out));
    assert_eq!(stderr(&out), "", "completion wrote to stderr: {words:?}");
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn use_completes_accounts_then_roles_as_aws_sso_env_does() {
    let sandbox = Sandbox::listed(&["--accounts", "3"]);
    assert_eq!(complete(&sandbox, "bash", &["aws-sso", "u"]), ["use"]);
    for shell in ["bash", "zsh", "fish"] {
        let env = |words: &[&str]| {
            let mut words = words.to_vec();
            words[0] = "aws-sso-env";
            words.remove(1);
            let mut cmd = sandbox.std_cmd("aws-sso-env");
            cmd.env("COMPLETE", shell).arg("--").args(&words);
            if shell != "fish" {
                cmd.env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
                    .env("_CLAP_IFS", "\n");
            }
            let out = cmd.output().expect("aws-sso-env completion");
            stdout(&out).lines().map(str::to_owned).collect::<Vec<_>>()
        };
        // The flags differ (`use` takes --clear, not --format): the names must not.
        let names = |candidates: Vec<String>| -> Vec<String> {
            candidates.into_iter().filter(|c| !c.starts_with('-')).collect()
        };
        let accounts = complete(&sandbox, shell, &["aws-sso", "use", "acc"]);
        assert!(accounts.iter().any(|c| c.starts_with("account-002")), "{shell}: {accounts:?}");
        assert_eq!(names(accounts), names(env(&["aws-sso", "use", "acc"])), "{shell}");
        let roles = complete(&sandbox, shell, &["aws-sso", "use", "account-002", ""]);
        assert!(roles.iter().any(|c| c.starts_with("AdministratorAccess")), "{shell}: {roles:?}");
        assert_eq!(names(roles), names(env(&["aws-sso", "use", "account-002", ""])), "{shell}");
    }
}
