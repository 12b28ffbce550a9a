//! Several sessions: `aws-sso-login --all` logs in to each in turn, and `status` narrows to the
//! session the flags name.

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

/// `ONE_SESSION` (corp, with profile dev), and a second session served by the same emulator.
fn two_sessions() -> String {
    format!(
        "{ONE_SESSION}\n[sso-session sandbox]\nsso_start_url = https://d-999.awsapps.com/start\nsso_region = eu-west-1\n"
    )
}

#[test]
fn login_all_logs_in_to_each_session_in_turn_and_skips_the_valid_ones() {
    let sandbox = Sandbox::new(&two_sessions(), &[]);
    let corp = sandbox.cmd("aws-sso-login").args(["--sso-session", "corp"]).output().expect("run");
    assert!(corp.status.success(), "{}", stderr(&corp));
    assert_eq!(sandbox.browser_opens().len(), 1);

    let out = sandbox.cmd("aws-sso-login").arg("--all").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sandbox.browser_opens().len(), 2, "one browser window, for sandbox only");
    assert!(sandbox.token_path("sandbox").exists());
    with_filters!(sandbox, { insta::assert_snapshot!("all_one_valid", stderr(&out)) });

    // Both valid: nothing to do, no browser.
    let again = sandbox.cmd("aws-sso-login").args(["login", "--all"]).output().expect("run");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(sandbox.browser_opens().len(), 2);
    with_filters!(sandbox, { insta::assert_snapshot!("all_both_valid", stderr(&again)) });

    // AWS_SSO_SESSION is the shell's default, not a choice on this command line.
    let from_env = sandbox
        .cmd("aws-sso-login")
        .arg("--all")
        .env("AWS_SSO_SESSION", "corp")
        .output()
        .expect("run");
    assert!(from_env.status.success(), "{}", stderr(&from_env));
}

#[test]
fn login_all_goes_on_past_a_failure_and_then_fails() {
    let config = format!(
        "{}\n[sso-session broken]\nsso_start_url = http://d-broken.awsapps.com/start\nsso_region = eu-west-1\n",
        two_sessions()
    );
    let sandbox = Sandbox::new(&config, &[]);
    let out = sandbox.cmd("aws-sso-login").arg("--all").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(sandbox.browser_opens().len(), 2, "corp and sandbox, one after the other");
    assert!(sandbox.token_path("corp").exists());
    assert!(sandbox.token_path("sandbox").exists());
    assert!(!sandbox.token_path("broken").exists());
    with_filters!(sandbox, { insta::assert_snapshot!("all_one_failed", stderr(&out)) });
}

#[test]
fn login_all_with_a_session_named_says_they_contradict() {
    let sandbox = Sandbox::new(&two_sessions(), &[]);
    for args in [&["--all", "--sso-session", "corp"][..], &["--all", "--profile", "dev"]] {
        let out = sandbox.cmd("aws-sso-login").args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let name = format!("all_with_{}", args[1].trim_start_matches("--").replace('-', "_"));
        insta::assert_snapshot!(name, stderr(&out));
    }
    assert!(sandbox.browser_opens().is_empty());

    let empty = Sandbox::new("", &[]);
    let out = empty.cmd("aws-sso-login").arg("--all").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    with_filters!(empty, { insta::assert_snapshot!("all_none_configured", stderr(&out)) });
}

#[test]
fn status_narrows_to_the_session_the_flags_name() {
    let sandbox = Sandbox::new(&two_sessions(), &[]);
    let corp = sandbox.cmd("aws-sso-login").args(["--sso-session", "corp"]).output().expect("run");
    assert!(corp.status.success(), "{}", stderr(&corp));

    let one = sandbox
        .cmd("aws-sso-login")
        .args(["status", "--sso-session", "sandbox"])
        .output()
        .expect("run");
    assert!(one.status.success(), "{}", stderr(&one));
    with_filters!(sandbox, { insta::assert_snapshot!("status_one_session", stdout(&one)) });

    // A profile means its session.
    let by_profile =
        sandbox.cmd("aws-sso-login").args(["status", "--profile", "dev"]).output().expect("run");
    assert!(by_profile.status.success(), "{}", stderr(&by_profile));
    with_filters!(sandbox, { insta::assert_snapshot!("status_by_profile", stdout(&by_profile)) });

    let json = sandbox
        .cmd("aws-sso-login")
        .args(["status", "-o", "json"])
        .env("AWS_SSO_SESSION", "corp")
        .output()
        .expect("run");
    assert!(json.status.success(), "{}", stderr(&json));
    let value: Value = serde_json::from_slice(&json.stdout).expect("json");
    let sessions = value.as_array().expect("an array, as without the flag");
    assert_eq!(sessions.len(), 1, "{value}");
    assert_eq!(sessions[0]["ssoSession"], "corp");
    assert_eq!(sessions[0]["loggedIn"], true);

    // Without a flag, every session, AWS_PROFILE or not.
    let all =
        sandbox.cmd("aws-sso-login").arg("status").env("AWS_PROFILE", "dev").output().expect("run");
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(stdout(&all).lines().count(), 3, "{}", stdout(&all));

    let unknown = sandbox
        .cmd("aws-sso-login")
        .args(["status", "--sso-session", "prod"])
        .output()
        .expect("run");
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    with_filters!(sandbox, { insta::assert_snapshot!("status_unknown_session", stderr(&unknown)) });
}
