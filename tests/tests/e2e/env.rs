//! `aws-sso-env` against the emulator: every format, exec, credential_process (with botocore),
//! project files and their trust, and every error a user can meet.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aws_sso_tests::python::python_with_botocore;
use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox, sha1_hex};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

/// `~/.aws/cli/cache/<key>.json` of (corp, account, role), as the AWS CLI names it.
fn cli_cache_file(sandbox: &Sandbox, account: &str, role: &str) -> PathBuf {
    let key = sha1_hex(&format!(
        r#"{{"accountId":"{account}","roleName":"{role}","sessionName":"corp"}}"#
    ));
    sandbox.cli_cache().join(format!("{key}.json"))
}

/// Puts fixed credentials in the shared cache, as the AWS CLI would have written them.
fn cache_fixed_credentials(sandbox: &Sandbox, account: &str, role: &str, session_token: &str) {
    let body = serde_json::json!({
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": "ASIAFIXEDKEY0000001",
            "SecretAccessKey": "fixed/secret+key=",
            "SessionToken": session_token,
            "Expiration": "2099-01-01T00:00:00Z",
            "AccountId": account,
        }
    });
    std::fs::create_dir_all(sandbox.cli_cache()).expect("mkdir");
    std::fs::write(cli_cache_file(sandbox, account, role), body.to_string()).expect("write");
}

fn env_cmd(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.cmd("aws-sso-env").args(args).output().expect("run aws-sso-env")
}

fn role_calls(sandbox: &Sandbox) -> usize {
    sandbox.emulator.operations().iter().filter(|o| *o == "GetRoleCredentials").count()
}

#[test]
fn help() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    for args in [
        &["--help"][..],
        &["exec", "--help"],
        &["credential-process", "--help"],
        &["status", "--help"],
    ] {
        let out = env_cmd(&sandbox, args);
        assert!(out.status.success(), "{args:?}");
        insta::assert_snapshot!(
            format!("env_help_{}", args.join("_").replace("--", "")),
            stdout(&out)
        );
    }
}

#[test]
fn every_format_with_fixed_credentials() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    cache_fixed_credentials(&sandbox, "100000000001", "ReadOnlyAccess", "FIXEDTOKEN");
    for format in
        ["env", "env-no-export", "fish", "powershell", "windows-cmd", "process", "json", "dotenv"]
    {
        let out = env_cmd(&sandbox, &["account-001", "ReadOnlyAccess", "--format", format]);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        insta::assert_snapshot!(format!("env_format_{format}"), stdout(&out));
    }
    assert_eq!(role_calls(&sandbox), 0, "cached credentials: no request");
}

#[test]
fn credentials_are_fetched_once_then_reused_from_the_shared_cache() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let first = env_cmd(&sandbox, &["100000000002", "AdministratorAccess", "-f", "json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let creds: Value = serde_json::from_slice(&first.stdout).expect("json");
    assert!(creds["accessKeyId"].as_str().is_some_and(|k| k.starts_with("ASIA")));
    let file = cli_cache_file(&sandbox, "100000000002", "AdministratorAccess");
    let cached: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the CLI's cache file"))
            .expect("json");
    assert_eq!(cached["ProviderType"], "sso");
    assert_eq!(cached["Credentials"]["AccessKeyId"], creds["accessKeyId"]);
    let second = env_cmd(&sandbox, &["account-002", "Admin", "-f", "json"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        serde_json::from_slice::<Value>(&second.stdout).expect("json")["accessKeyId"],
        creds["accessKeyId"]
    );
    assert_eq!(role_calls(&sandbox), 1);
}

#[test]
fn hostile_values_survive_a_real_shell() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let token = "it's \"quoted\" $HOME `id` \\back\\slash\nnew line; done";
    cache_fixed_credentials(&sandbox, "100000000001", "ReadOnlyAccess", token);
    let printed = env_cmd(&sandbox, &["100000000001", "ReadOnlyAccess"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let out = std::process::Command::new("bash")
        .args(["-c", "eval \"$(cat)\"; printf '%s' \"$AWS_SESSION_TOKEN\""])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(&printed.stdout)?;
            child.wait_with_output()
        })
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout), token);
}

#[test]
fn errors_say_what_to_do() {
    let sandbox = Sandbox::listed(&["--accounts", "3", "--roles-per-account", "2"]);
    let cases: [(&str, &[&str], i32); 5] = [
        ("nothing_named", &[], 2),
        ("unknown_account", &["no-such-account", "ReadOnlyAccess"], 2),
        ("role_needed", &["account-001"], 2),
        ("no_access", &["100000000001", "PowerUserAccess"], 1),
        ("ambiguous", &["account-00"], 2),
    ];
    for (name, args, code) in cases {
        let out = env_cmd(&sandbox, args);
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        with_filters!(sandbox, {
            insta::assert_snapshot!(format!("env_error_{name}"), stderr(&out))
        });
    }
}

#[test]
fn not_logged_in_is_exit_3_with_the_login_command() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = env_cmd(&sandbox, &["100000000001", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    insta::assert_snapshot!("env_error_not_logged_in", stderr(&out));

    let none = Sandbox::new("", &[]);
    let out = env_cmd(&none, &["100000000001", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    with_filters!(none, { insta::assert_snapshot!("env_error_no_session", stderr(&out)) });
}

#[test]
fn an_unreadable_cache_file_is_replaced() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let file = cli_cache_file(&sandbox, "100000000001", "ReadOnlyAccess");
    std::fs::create_dir_all(sandbox.cli_cache()).expect("mkdir");
    std::fs::write(&file, "{\"ProviderType\": \"sso\", \"Credentials\": {").expect("write");
    let out = env_cmd(&sandbox, &["100000000001", "ReadOnlyAccess", "-f", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning:"), "reported: {}", stderr(&out));
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("replaced");
    assert_eq!(again["ProviderType"], "sso");
}

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn exec_passes_arguments_as_given_and_returns_the_exit_code() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    cache_fixed_credentials(&sandbox, "100000000001", "ReadOnlyAccess", "FIXEDTOKEN");
    let args_script = write_script(
        sandbox.path(),
        "args.sh",
        "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\nexit 7\n",
    );
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--"])
        .arg(&args_script)
        .args(["two words", "it's \"q\"", "", "--", "-x", "$HOME"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(7), "the child's code: {}", stderr(&out));
    assert_eq!(stdout(&out), "<two words>\n<it's \"q\">\n<>\n<-->\n<-x>\n<$HOME>\n");

    let missing = env_cmd(
        &sandbox,
        &["exec", "100000000001", "ReadOnlyAccess", "--", "no-such-command-anywhere"],
    );
    assert_eq!(missing.status.code(), Some(127), "{}", stderr(&missing));
    insta::assert_snapshot!("env_exec_not_found", stderr(&missing));

    let not_executable = sandbox.path().join("plain.txt");
    std::fs::write(&not_executable, "not a program").expect("write");
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--"])
        .arg(&not_executable)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
}

#[test]
fn exec_gives_the_child_these_credentials_and_no_others() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    cache_fixed_credentials(&sandbox, "100000000001", "ReadOnlyAccess", "FIXEDTOKEN");
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "account-001", "ReadOnlyAccess", "--", "env"])
        .env("AWS_PROFILE", "dev")
        .env("AWS_ACCESS_KEY_ID", "AKIAUSERSOWN")
        .env("AWS_SECRET_ACCESS_KEY", "users-own-secret")
        .env("AWS_SECURITY_TOKEN", "legacy")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let env = stdout(&out);
    let vars: Vec<&str> = env.lines().filter(|l| l.starts_with("AWS_")).collect();
    assert!(vars.contains(&"AWS_ACCESS_KEY_ID=ASIAFIXEDKEY0000001"), "{vars:?}");
    assert!(vars.contains(&"AWS_SESSION_TOKEN=FIXEDTOKEN"), "{vars:?}");
    assert!(vars.contains(&"AWS_SSO_ACCOUNT_NAME=account-001"), "{vars:?}");
    assert!(vars.contains(&"AWS_SSO_PROFILE=account-001:ReadOnlyAccess"), "{vars:?}");
    assert!(!env.contains("AWS_PROFILE="), "AWS_PROFILE removed: {vars:?}");
    assert!(!env.contains("users-own-secret") && !env.contains("AWS_SECURITY_TOKEN"), "{vars:?}");

    let nested = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "account-001", "ReadOnlyAccess", "--"])
        .arg(sandbox.bin_dir.join("aws-sso-env"))
        .args(["exec", "account-002", "ReadOnlyAccess", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(nested.status.code(), Some(2), "{}", stderr(&nested));
    insta::assert_snapshot!("env_exec_nested", stderr(&nested));
}

#[cfg(unix)]
#[test]
fn exec_replaces_itself_so_signals_reach_the_command() {
    use std::os::unix::process::ExitStatusExt;
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    cache_fixed_credentials(&sandbox, "100000000001", "ReadOnlyAccess", "FIXEDTOKEN");
    let child = sandbox
        .std_cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--", "sleep", "30"])
        .spawn()
        .expect("spawn");
    let pid = child.id();
    // Once exec has happened, the process is `sleep` itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sleep" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never became sleep: {comm}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait_with_output().expect("wait").status;
    assert_eq!(status.signal(), Some(15), "terminated by the signal: {status:?}");
}

#[test]
fn forty_credential_processes_at_once_make_one_call() {
    let sandbox = Sandbox::listed(&["--accounts", "2", "--latency-ms", "100"]);
    let children: Vec<_> = (0..40)
        .map(|_| {
            sandbox
                .std_cmd("aws-sso-env")
                .args(["credential-process", "100000000001", "ReadOnlyAccess"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<_> =
        children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    let mut keys = std::collections::BTreeSet::new();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
        assert_eq!(json["Version"], 1);
        keys.insert(json["AccessKeyId"].as_str().expect("key").to_owned());
    }
    assert_eq!(keys.len(), 1, "all forty got the same credentials");
    assert_eq!(role_calls(&sandbox), 1, "one GetRoleCredentials for forty processes");
}

#[test]
fn credential_process_failures_are_one_line() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = env_cmd(&sandbox, &["credential-process", "100000000001", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn botocore_uses_our_credential_process() {
    let Some(python) = python_with_botocore() else { return };
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let config = format!(
        "{ONE_SESSION}\n[profile via-process]\ncredential_process = {} credential-process 100000000001 ReadOnlyAccess\n",
        sandbox.bin_dir.join("aws-sso-env").display()
    );
    std::fs::write(sandbox.config_path(), config).expect("write config");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/interop.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(["credentials", "via-process"])
        .env_clear()
        .env("HOME", sandbox.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &sandbox.emulator.url)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("python");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let creds: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(creds["method"], "custom-process");
    let cached: Value = serde_json::from_str(
        &std::fs::read_to_string(cli_cache_file(&sandbox, "100000000001", "ReadOnlyAccess"))
            .expect("cached"),
    )
    .expect("json");
    assert_eq!(creds["accessKeyId"], cached["Credentials"]["AccessKeyId"]);
}

#[test]
fn a_project_file_is_used_once_allowed_and_until_it_changes() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    cache_fixed_credentials(&sandbox, "100000000002", "ReadOnlyAccess", "FIXEDTOKEN");
    let project = sandbox.path().join("src/billing");
    let deeper = project.join("modules/network");
    std::fs::create_dir_all(&deeper).expect("mkdir");
    let file = project.join(".aws-sso.yaml");
    std::fs::write(&file, "account: 100000000002\nrole: ReadOnlyAccess\nregion: eu-west-1\n")
        .expect("write");

    let run = |args: &[&str]| {
        sandbox.cmd("aws-sso-env").args(args).current_dir(&deeper).output().expect("run")
    };
    let refused = run(&["-f", "json"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    with_filters!(sandbox, {
        insta::assert_snapshot!("env_project_not_allowed", stderr(&refused))
    });

    let allowed = run(&["allow"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    let out = run(&["-f", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["accountId"], "100000000002");
    assert_eq!(json["region"], "eu-west-1");

    let status = run(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    with_filters!(sandbox, { insta::assert_snapshot!("env_status", stdout(&status)) });
    let json = run(&["status", "--output", "json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    with_filters!(sandbox, { insta::assert_snapshot!("env_status_json", stdout(&json)) });

    std::fs::write(&file, "account: 100000000001\nrole: ReadOnlyAccess\n").expect("edit");
    let changed = run(&["-f", "json"]);
    assert_eq!(changed.status.code(), Some(1), "an edit revokes trust: {}", stderr(&changed));

    assert!(run(&["allow"]).status.success());
    assert!(run(&["deny"]).status.success());
    assert_eq!(run(&["-f", "json"]).status.code(), Some(1));
}

#[test]
fn a_malformed_project_file_names_the_line() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let dir = sandbox.path().join("proj");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(".aws-sso.yaml"), "account: 100000000002\nrole: [oops\n")
        .expect("write");
    let out = sandbox.cmd("aws-sso-env").current_dir(&dir).output().expect("run");
    assert_ne!(out.status.code(), Some(0));
    with_filters!(sandbox, { insta::assert_snapshot!("env_project_malformed", stderr(&out)) });

    std::fs::write(dir.join(".aws-sso.yaml"), "account: 100000000002\nrol: Admin\n")
        .expect("write");
    let out = sandbox.cmd("aws-sso-env").args(["allow"]).current_dir(&dir).output().expect("run");
    assert_ne!(out.status.code(), Some(0));
    with_filters!(sandbox, { insta::assert_snapshot!("env_project_unknown_key", stderr(&out)) });
}

#[test]
fn hostile_account_names_are_exported_verbatim_and_never_run() {
    let sandbox = Sandbox::listed(&["--accounts", "8", "--name-style", "hostile"]);
    let accounts: Value = serde_json::from_slice(
        &sandbox.cmd("aws-sso-ls").args(["-o", "json"]).output().expect("ls").stdout,
    )
    .expect("json");
    let canary = sandbox.path().join("pwned");
    for account in accounts.as_array().expect("array") {
        let id = account["accountId"].as_str().expect("id");
        let name = account["accountName"].as_str().expect("name");
        let printed = env_cmd(&sandbox, &[id, "ReadOnlyAccess"]);
        assert!(printed.status.success(), "{name}: {}", stderr(&printed));
        let out = std::process::Command::new("bash")
            .args(["-c", "eval \"$(cat)\"; printf '%s' \"$AWS_SSO_ACCOUNT_NAME\""])
            .current_dir(sandbox.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().expect("stdin").write_all(&printed.stdout)?;
                child.wait_with_output()
            })
            .expect("bash");
        assert_eq!(String::from_utf8_lossy(&out.stdout), name, "exported verbatim");
    }
    assert!(!canary.exists(), "a name was executed");
}

#[test]
fn an_allowed_project_file_chooses_the_session_of_every_command_run_in_it() {
    let lab = "\n[sso-session lab]\nsso_start_url = https://d-0000000000.awsapps.com/start\nsso_region = eu-west-1\n";
    let sandbox = Sandbox::new(&format!("{ONE_SESSION}{lab}"), &["--accounts", "2"]);
    let project = sandbox.path().join("src/lab-work");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::write(
        project.join(".aws-sso.yaml"),
        "account: 100000000001\nrole: ReadOnlyAccess\nsso_session: lab\n",
    )
    .expect("write");
    let run = |bin: &str, args: &[&str], dir: &Path| {
        sandbox.cmd(bin).args(args).current_dir(dir).output().expect("run")
    };

    // Not allowed yet: the file chooses nothing, and two sessions need a choice.
    let refused = run("aws-sso-login", &[], &project);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("Several sso-sessions"), "{}", stderr(&refused));

    assert!(run("aws-sso-env", &["allow"], &project).status.success());
    let login = run("aws-sso-login", &[], &project);
    assert!(login.status.success(), "{}", stderr(&login));
    assert!(sandbox.token_path("lab").exists(), "logged in to the project's session");
    assert!(!sandbox.token_path("corp").exists());
    let listed = run("aws-sso-ls", &["-o", "ids"], &project);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains("100000000002"), "{}", stdout(&listed));
    // An account named on the command line is looked up in the project's session too.
    let named = run("aws-sso-env", &["100000000002", "ReadOnlyAccess", "-f", "json"], &project);
    assert!(named.status.success(), "{}", stderr(&named));

    // A flag still wins, and outside the project nothing chooses.
    let flagged = run("aws-sso-ls", &["--sso-session", "corp"], &project);
    assert_eq!(flagged.status.code(), Some(3), "{}", stderr(&flagged));
    assert!(stderr(&flagged).contains("Not logged in to corp"), "{}", stderr(&flagged));
    let outside = run("aws-sso-ls", &[], sandbox.path());
    assert_eq!(outside.status.code(), Some(2), "{}", stderr(&outside));
}

#[test]
fn a_symlinked_project_file_borrows_no_trust() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    cache_fixed_credentials(&sandbox, "100000000002", "ReadOnlyAccess", "FIXEDTOKEN");
    let mine = sandbox.path().join("mine");
    let cloned = sandbox.path().join("cloned");
    std::fs::create_dir_all(&mine).expect("mkdir");
    std::fs::create_dir_all(&cloned).expect("mkdir");
    std::fs::write(mine.join(".aws-sso.yaml"), "account: 100000000002\nrole: ReadOnlyAccess\n")
        .expect("write");
    let run = |args: &[&str], dir: &Path| {
        sandbox.cmd("aws-sso-env").args(args).current_dir(dir).output().expect("run")
    };
    assert!(run(&["allow"], &mine).status.success());
    assert!(run(&["-f", "json"], &mine).status.success(), "the allowed file itself works");
    // A cloned repository whose project file links to the allowed one.
    std::os::unix::fs::symlink(mine.join(".aws-sso.yaml"), cloned.join(".aws-sso.yaml"))
        .expect("symlink");

    let refused = run(&["-f", "json"], &cloned);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stdout(&refused).is_empty(), "no credentials: {}", stdout(&refused));
    assert!(stderr(&refused).contains("is a symbolic link to "), "{}", stderr(&refused));

    let status = run(&["status", "--output", "json"], &cloned);
    assert!(status.status.success(), "{}", stderr(&status));
    let json: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(json["projectTrust"], "invalid", "{json}");
    let shown = cloned.join(".aws-sso.yaml");
    assert_eq!(json["projectFile"].as_str(), Some(&*shown.to_string_lossy()), "{json}");
    assert_eq!(json["accountId"], Value::Null, "{json}");
    assert!(json["problem"].as_str().is_some_and(|p| p.contains("symbolic link")), "{json}");

    let allow = run(&["allow"], &cloned);
    assert_eq!(allow.status.code(), Some(1), "a link cannot be allowed: {}", stderr(&allow));

    let hook = sandbox.hook_in(&cloned);
    assert!(hook.status.success(), "{}", stderr(&hook));
    assert!(!stdout(&hook).contains("AWS_ACCESS_KEY_ID="), "{}", stdout(&hook));
    assert!(!stdout(&hook).contains("FIXEDTOKEN"), "{}", stdout(&hook));
    assert!(stderr(&hook).contains("is a symbolic link to "), "{}", stderr(&hook));
    // The same hook in the allowed directory does export.
    assert!(stdout(&sandbox.hook_in(&mine)).contains("FIXEDTOKEN"));
}

const DEV_FIXTURE: &str = r#"{"accounts":[
  {"accountId":"200000000001","accountName":"dev-sandbox","emailAddress":"a@example.com","roles":["ReadOnlyAccess"]},
  {"accountId":"200000000002","accountName":"dev","emailAddress":"b@example.com","roles":["ReadOnlyAccess"]},
  {"accountId":"200000000003","accountName":"devops-prod","emailAddress":"c@example.com","roles":["ReadOnlyAccess"]}
]}"#;

/// The accounts of [`DEV_FIXTURE`], listed, each with fixed credentials cached
/// (`TOKEN-OF-<id>`), and an empty project directory.
fn dev_accounts_and_a_project() -> (tempfile::TempDir, Sandbox, PathBuf) {
    let fixture_dir = tempfile::tempdir().expect("tempdir");
    let fixture = fixture_dir.path().join("accounts.json");
    std::fs::write(&fixture, DEV_FIXTURE).expect("write fixture");
    let sandbox = Sandbox::listed(&["--fixture", &fixture.to_string_lossy()]);
    for n in 1..=3 {
        let id = format!("20000000000{n}");
        cache_fixed_credentials(&sandbox, &id, "ReadOnlyAccess", &format!("TOKEN-OF-{id}"));
    }
    let project = sandbox.path().join("p");
    std::fs::create_dir_all(&project).expect("mkdir");
    (fixture_dir, sandbox, project)
}

#[test]
fn a_project_file_whose_prefix_match_changes_meaning_is_refused() {
    let (_fixture_dir, sandbox, project) = dev_accounts_and_a_project();
    let run = |args: &[&str]| {
        sandbox.cmd("aws-sso-env").args(args).current_dir(&project).output().expect("run")
    };
    // `dev-san` would pick dev-sandbox on the command line; a project file names exactly.
    assert!(env_cmd(&sandbox, &["dev-san", "ReadOnlyAccess", "-f", "json"]).status.success());
    std::fs::write(project.join(".aws-sso.yaml"), "account: dev-san\nrole: ReadOnlyAccess\n")
        .expect("write");
    assert!(run(&["allow"]).status.success());
    let prefix = run(&["-f", "json"]);
    assert_eq!(prefix.status.code(), Some(2), "{}", stderr(&prefix));
    assert!(!stdout(&sandbox.hook_in(&project)).contains("TOKEN-OF-"), "no prefix in the hook");

    // Allowed while `dev` was 200000000002: the allow says so and records it.
    std::fs::write(project.join(".aws-sso.yaml"), "account: dev\nrole: ReadOnlyAccess\n")
        .expect("write");
    let allowed = run(&["allow"]);
    assert!(stderr(&allowed).contains("account dev = 200000000002"), "{}", stderr(&allowed));
    assert!(stdout(&sandbox.hook_in(&project)).contains("TOKEN-OF-200000000002"));

    // The account list changes: `dev` is now the name of 200000000003.
    let cache = sandbox.path().join(".cache/aws-sso/accounts-corp.json");
    let text = std::fs::read_to_string(&cache).expect("account cache");
    let text = text.replace("\"dev\"", "\"dev-old\"").replace("\"devops-prod\"", "\"dev\"");
    std::fs::write(&cache, text).expect("rewrite the account cache");
    let changed = run(&["-f", "json"]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let message = stderr(&changed);
    assert!(
        message
            .contains("which was 200000000002 when the file was allowed but is now 200000000003"),
        "{message}"
    );
    assert!(message.contains("aws-sso-env allow "), "{message}");
    let status = run(&["status", "--output", "json"]);
    let json: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(json["projectTrust"], "account changed since allowed", "{json}");
    assert_eq!(json["accountId"], Value::Null, "{json}");
    let hook = sandbox.hook_in(&project);
    assert!(!stdout(&hook).contains("TOKEN-OF-"), "{}", stdout(&hook));
    assert!(stderr(&hook).contains("is now 200000000003"), "{}", stderr(&hook));
    // Allowing again takes the new meaning.
    assert!(run(&["allow"]).status.success());
    assert!(stdout(&sandbox.hook_in(&project)).contains("TOKEN-OF-200000000003"));
}

/// The command a message suggests after "then run: ", to the end of its line.
fn suggested(text: &str) -> String {
    let (_, after) =
        text.split_once("then run: ").unwrap_or_else(|| panic!("no suggestion: {text}"));
    after.lines().next().unwrap_or_default().to_owned()
}

/// A directory `name` under the sandbox's HOME whose project file names account 2's
/// ReadOnlyAccess, not allowed yet.
fn project_not_allowed(sandbox: &Sandbox, name: &str) -> PathBuf {
    let dir = sandbox.path().join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(".aws-sso.yaml"), "account: 100000000002\nrole: ReadOnlyAccess\n")
        .expect("write");
    dir
}

/// `aws-sso-env ARGS` run in `dir`, as a shell standing there runs it (`PWD` included).
fn env_in(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    sandbox.cmd("aws-sso-env").args(args).current_dir(dir).env("PWD", dir).output().expect("run")
}

#[test]
fn a_pasted_allow_suggestion_runs_nothing_a_directory_name_holds() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let dir = project_not_allowed(&sandbox, "x;touch ${HOME}pwned;#");
    let canary = PathBuf::from(format!("{}pwned", sandbox.path().display()));
    let run = |args: &[&str]| env_in(&sandbox, &dir, args);
    let sources = [
        ("status", stdout(&run(&["status"]))),
        ("aws-sso-env", stderr(&run(&["-f", "json"]))),
        ("exec", stderr(&run(&["exec", "--", "true"]))),
        ("hook", stderr(&run(&["hook", "bash"]))),
    ];
    let path = std::env::join_paths(
        std::iter::once(sandbox.bin_dir.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    for (source, text) in sources {
        let command = suggested(&text);
        assert!(command.starts_with("aws-sso-env allow "), "{source}: {command}");
        let pasted = Command::new("sh")
            .args(["-c", &command])
            .env_clear()
            .env("PATH", &path)
            .env("HOME", sandbox.path())
            .current_dir(sandbox.path())
            .output()
            .expect("sh");
        assert!(pasted.status.success(), "{source}: {command}: {}", stderr(&pasted));
        assert!(!canary.exists(), "{source}: pasting {command} ran what the directory name holds");
        assert!(stderr(&pasted).contains("Allowed "), "{source}: {}", stderr(&pasted));
        assert!(run(&["deny"]).status.success());
    }
}

#[test]
fn escape_sequences_in_a_directory_name_never_reach_the_terminal() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let dir = project_not_allowed(&sandbox, "evil\u{1b}]0;pwned\u{7}\u{1b}[2J");
    let run = |args: &[&str]| env_in(&sandbox, &dir, args);
    let outputs = [
        ("status", stdout(&run(&["status"]))),
        ("aws-sso-env", stderr(&run(&["-f", "json"]))),
        ("hook", stderr(&run(&["hook", "bash"]))),
        ("allow", stderr(&run(&["allow"]))),
        ("deny", stderr(&run(&["deny"]))),
        ("deny again", stderr(&run(&["deny"]))),
    ];
    for (source, text) in outputs {
        assert!(text.contains("evil\\u{1b}]0;pwned\\u{7}"), "{source}: {text:?}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{source}: {text:?}");
    }
}

#[test]
fn a_file_allowed_before_the_account_list_was_cached_is_refused_when_its_name_changes_meaning() {
    let (_fixture_dir, sandbox, project) = dev_accounts_and_a_project();
    let run = |args: &[&str]| {
        sandbox.cmd("aws-sso-env").args(args).current_dir(&project).output().expect("run")
    };
    std::fs::write(project.join(".aws-sso.yaml"), "account: dev\nrole: ReadOnlyAccess\n")
        .expect("write");
    // No account list yet: the allow cannot say which account `dev` is.
    let cache = sandbox.path().join(".cache/aws-sso/accounts-corp.json");
    std::fs::remove_file(&cache).expect("forget the account list");
    let allowed = run(&["allow"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert!(!stderr(&allowed).contains("= 2000"), "{}", stderr(&allowed));

    // The first use fetches the list, and records what `dev` means now.
    let first = run(&["-f", "json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("TOKEN-OF-200000000002"), "{}", stdout(&first));

    let text = std::fs::read_to_string(&cache).expect("account cache");
    let text = text.replace("\"dev\"", "\"dev-old\"").replace("\"devops-prod\"", "\"dev\"");
    std::fs::write(&cache, text).expect("rewrite the account cache");
    let changed = run(&["-f", "json"]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    assert!(
        stderr(&changed)
            .contains("which was 200000000002 when the file was allowed but is now 200000000003"),
        "{}",
        stderr(&changed)
    );
    let hook = sandbox.hook_in(&project);
    assert!(!stdout(&hook).contains("TOKEN-OF-"), "{}", stdout(&hook));
}
