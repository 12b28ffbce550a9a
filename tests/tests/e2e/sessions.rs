//! Finding the session without being told: a stray `AWS_PROFILE` is passed over, `default_session`
//! chooses among several, and with several sessions an account named (or completed) chooses its
//! session.

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::{stderr, stdout};

/// [`ONE_SESSION`] and a second session, `lab`, served by the same emulator, and a profile with
/// static keys such as other work leaves in `AWS_PROFILE`.
fn two_sessions() -> String {
    format!(
        "{ONE_SESSION}
[sso-session lab]
sso_start_url = https://d-2222222222.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile plain-keys]
region = eu-west-1
"
    )
}

/// `lab`'s account cache, written as a listing would: one account of its own.
fn cache_lab_accounts(sandbox: &Sandbox) {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let cache = format!(
        r#"{{"version":1,"ssoSession":"lab","startUrl":"https://d-2222222222.awsapps.com/start","region":"us-east-1","fetchedAt":"{now}","accounts":[{{"accountId":"200000000009","accountName":"lab-sandbox","emailAddress":"l@example.com","roles":["LabAdmin"],"rolesFetchedAt":"{now}"}}]}}"#
    );
    let path = sandbox.path().join(".cache/aws-sso/accounts-lab.json");
    std::fs::write(path, cache).expect("write lab's cache");
}

fn logged_in_to_both() -> Sandbox {
    let sandbox = Sandbox::new(&two_sessions(), &[]);
    for session in ["corp", "lab"] {
        let login = sandbox.cmd("aws-sso-login").args(["--sso-session", session]).output();
        let login = login.expect("login");
        assert!(login.status.success(), "{session}: {}", stderr(&login));
    }
    let ls = sandbox.cmd("aws-sso-ls").args(["--sso-session", "corp"]).output().expect("ls");
    assert!(ls.status.success(), "{}", stderr(&ls));
    cache_lab_accounts(&sandbox);
    sandbox
}

#[test]
fn a_stray_aws_profile_with_static_keys_is_passed_over() {
    let config = format!("{ONE_SESSION}\n[profile plain-keys]\nregion = eu-west-1\n");
    let sandbox = Sandbox::new(&config, &[]);
    let login = sandbox.cmd("aws-sso-login").output().expect("login");
    assert!(login.status.success(), "{}", stderr(&login));
    let out = sandbox
        .cmd("aws-sso-env")
        .env("AWS_PROFILE", "plain-keys")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--", "env"])
        .output()
        .expect("exec");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("AWS_SSO_ACCOUNT_ID=100000000001"), "{}", stdout(&out));
    // Named on the command line it must be usable, and the error says what to do instead.
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["--profile", "plain-keys", "100000000001", "ReadOnlyAccess"])
        .output()
        .expect("env");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Name the session instead (--sso-session NAME), or, if AWS_PROFILE set it, unset AWS_PROFILE."),
        "{}",
        stderr(&out)
    );
}

#[test]
fn with_two_sessions_the_account_named_chooses_the_session() {
    let sandbox = logged_in_to_both();
    // account-001 is only in corp's cache, lab-sandbox only in lab's.
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["-f", "json", "account-001", "ReadOnlyAccess"])
        .output()
        .expect("env");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"accountId\": \"100000000001\""), "{}", stdout(&out));
    // An account neither cache holds: the usual error about several sessions.
    let out = sandbox.cmd("aws-sso-env").args(["nowhere", "ReadOnlyAccess"]).output().expect("env");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("Several sso-sessions"), "{}", stderr(&out));
    // default_session in config.yaml chooses when nothing else does.
    sandbox.write_settings("default_session: lab\n");
    let out = sandbox.cmd("aws-sso-ls").args(["-o", "ids"]).output().expect("ls");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "200000000009 LabAdmin\n");
}

/// The candidates `aws-sso-env` offers for the last of `words`, with their descriptions, as zsh
/// asks (the shell that shows descriptions).
fn complete(sandbox: &Sandbox, words: &[&str]) -> Vec<String> {
    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.env("COMPLETE", "zsh")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env("_CLAP_IFS", "\n")
        .arg("--")
        .args(words);
    let out = cmd.output().expect("complete");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // Flags are offered too; these tests look at the accounts and roles.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|w| !w.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn completion_offers_every_logged_in_sessions_accounts_labelled_with_their_session() {
    let sandbox = logged_in_to_both();
    let offered = complete(&sandbox, &["aws-sso-env", "lab"]);
    assert_eq!(offered, ["lab-sandbox:200000000009 (lab)"], "{offered:?}");
    let offered = complete(&sandbox, &["aws-sso-env", "account-00"]);
    assert_eq!(
        offered,
        [
            "account-001:100000000001 (corp)",
            "account-002:100000000002 (corp)",
            "account-003:100000000003 (corp)"
        ],
        "{offered:?}"
    );
    // The account then chooses the session of its roles.
    assert_eq!(complete(&sandbox, &["aws-sso-env", "lab-sandbox", ""]), ["LabAdmin:lab-sandbox"]);
    // A session logged out offers nothing.
    let logout = sandbox.cmd("aws-sso-login").args(["logout", "--sso-session", "lab"]).output();
    assert!(logout.expect("logout").status.success());
    assert!(complete(&sandbox, &["aws-sso-env", "lab"]).is_empty());
}
