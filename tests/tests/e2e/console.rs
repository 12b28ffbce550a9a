//! `aws-sso-env console` against the emulator's federation endpoint: the printed link signs in,
//! the browser gets it, and expired or foreign credentials fail as a user can act on.

use std::time::{Duration, Instant};

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox, sha1_hex};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};

/// `aws-sso-env console ARGS` with the emulator as the federation endpoint.
fn console(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd("aws-sso-env")
        .arg("console")
        .args(args)
        .env("AWS_SSO_FEDERATION_ENDPOINT", &sandbox.emulator.url)
        .output()
        .expect("run aws-sso-env console")
}

/// The `Location` of a reply.
fn location(head: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("location").then(|| value.trim().to_owned())
    })
}

#[test]
fn the_printed_link_signs_in_and_lands_on_the_console_of_the_region() {
    let sandbox = Sandbox::logged_in(&[]);
    let out = console(&sandbox, &["--profile", "dev", "--print", "-vv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out);
    // The link is a credential: the verbose log must not hold it, nor the role's keys.
    for secret in ["SigninToken=", "Session=", "getSigninToken&"] {
        assert!(!stderr(&out).contains(secret), "logged {secret}: {}", stderr(&out));
    }
    with_filters!(sandbox, {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"SigninToken=[A-Za-z0-9_\-%]+", "SigninToken=[TOKEN]");
        settings.bind(|| insta::assert_snapshot!("console_print", link));
    });

    let target = link.trim().strip_prefix(&sandbox.emulator.url).expect("a link to the emulator");
    let reply = sandbox.emulator.send("GET", target, &[], "");
    assert_eq!(reply.status, 302, "{}\n{}", reply.head, reply.body);
    assert_eq!(
        location(&reply.head).as_deref(),
        Some("https://console.aws.amazon.com/?region=eu-west-1")
    );
    // A forged token is not let in.
    let forged = format!("{}forged", target.trim_end());
    assert_eq!(sandbox.emulator.send("GET", &forged, &[], "").status, 400);
}

#[test]
fn region_and_destination_choose_where_the_console_opens() {
    let sandbox = Sandbox::logged_in(&[]);
    for (args, landing) in [
        (&["--region", "cn-north-1"][..], "https://console.amazonaws.cn/?region=cn-north-1"),
        (
            &["--region", "us-gov-west-1"],
            "https://console.amazonaws-us-gov.com/?region=us-gov-west-1",
        ),
        (
            &["--destination", "https://console.aws.amazon.com/s3/home"],
            "https://console.aws.amazon.com/s3/home",
        ),
    ] {
        let mut all = vec!["100000000001", "ReadOnlyAccess", "--print"];
        all.extend_from_slice(args);
        let out = console(&sandbox, &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let link = stdout(&out);
        let target = link.trim().strip_prefix(&sandbox.emulator.url).expect("emulator link");
        let reply = sandbox.emulator.send("GET", target, &[], "");
        assert_eq!(reply.status, 302, "{args:?}");
        assert_eq!(location(&reply.head).as_deref(), Some(landing), "{args:?}");
    }
}

#[test]
fn without_print_the_browser_gets_the_link_and_stdout_stays_empty() {
    let sandbox = Sandbox::logged_in(&[]);
    let out = console(&sandbox, &["100000000001", "ReadOnlyAccess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("Opened the AWS console for 100000000001 ReadOnlyAccess"));
    // The stand-in browser runs detached: wait for it to log what it was given.
    let deadline = Instant::now() + Duration::from_secs(10);
    let link = loop {
        let opened = sandbox.browser_opens();
        if let Some(link) = opened.iter().find(|url| url.contains("Action=login")) {
            break link.clone();
        }
        assert!(Instant::now() < deadline, "the browser never got the link: {opened:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        link.starts_with(&format!(
            "{}/federation?Action=login&Issuer=aws-sso&",
            sandbox.emulator.url
        ))
    );
    let target = link.strip_prefix(&sandbox.emulator.url).expect("emulator link");
    assert_eq!(sandbox.emulator.send("GET", target, &[], "").status, 302);
}

#[test]
fn credentials_the_endpoint_never_issued_are_refused_with_its_reason() {
    let sandbox = Sandbox::logged_in(&[]);
    let key = sha1_hex(
        r#"{"accountId":"100000000001","roleName":"ReadOnlyAccess","sessionName":"corp"}"#,
    );
    let body = serde_json::json!({
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": "ASIAFIXEDKEY0000001",
            "SecretAccessKey": "fixed/secret+key=",
            "SessionToken": "FOREIGNTOKEN",
            "Expiration": "2099-01-01T00:00:00Z",
            "AccountId": "100000000001",
        }
    });
    std::fs::create_dir_all(sandbox.cli_cache()).expect("mkdir");
    std::fs::write(sandbox.cli_cache().join(format!("{key}.json")), body.to_string())
        .expect("write");
    let out = console(&sandbox, &["100000000001", "ReadOnlyAccess", "--print"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let message = stderr(&out);
    for secret in ["FOREIGNTOKEN", "fixed/secret", "ASIAFIXEDKEY"] {
        assert!(!message.contains(secret), "{message}");
    }
    with_filters!(sandbox, { insta::assert_snapshot!("console_foreign_credentials", message) });
}

#[test]
fn an_expired_session_or_no_login_is_exit_3() {
    let sandbox = Sandbox::logged_in(&["--token-ttl", "60", "--no-refresh-tokens"]);
    // Expired by both clocks without waiting a minute: the emulator's clock is moved past the
    // token's lifetime, and the cached token says it ended a second ago.
    sandbox.emulator.advance_clock(61_000);
    sandbox.expire_token("corp");
    let out = console(&sandbox, &["100000000001", "ReadOnlyAccess", "--print"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("aws-sso-login"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    let never = Sandbox::new(ONE_SESSION, &[]);
    let out = console(&never, &["100000000001", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(never.browser_opens().is_empty());
}

#[test]
fn help_says_the_link_is_a_credential() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = sandbox.cmd("aws-sso-env").args(["console", "--help"]).output().expect("help");
    assert!(out.status.success());
    insta::assert_snapshot!("console_help", stdout(&out));
}

// Session-expiry warnings (config.yaml `warn_before`) and what `aws-sso-env status` shows of
// the session's end.

fn login(sandbox: &Sandbox) -> String {
    let out = sandbox.cmd("aws-sso-login").output().expect("login");
    assert!(out.status.success(), "login: {}", stderr(&out));
    stderr(&out)
}

fn status_json(sandbox: &Sandbox) -> serde_json::Value {
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["status", "-o", "json"])
        .env("AWS_PROFILE", "dev")
        .output()
        .expect("status");
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

fn token_file(sandbox: &Sandbox) -> serde_json::Value {
    let text = std::fs::read_to_string(sandbox.token_path("corp")).expect("token file");
    serde_json::from_str(&text).expect("token JSON")
}

#[test]
fn a_session_that_can_be_refreshed_for_less_than_warn_before_is_warned_about() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--token-ttl", "3600", "--registration-ttl", "7200"]);
    sandbox.write_settings("sessions:\n  corp:\n    warn_before: 3h\n");
    // A new login starts the session: nothing to warn about yet.
    assert!(!login(&sandbox).contains("ends in"));
    let again = login(&sandbox);
    assert!(again.contains("Already logged in to corp"), "{again}");
    assert!(
        again.contains(
            "the session corp ends in 1h 59m; log in again before then: aws-sso-login --force --sso-session corp"
        ),
        "{again}"
    );
    assert_eq!(again.matches("ends in").count(), 1, "{again}");

    let status = status_json(&sandbox);
    let token = token_file(&sandbox);
    assert_eq!(status["sessionRefreshable"], true);
    assert_eq!(status["sessionRefreshableUntil"], token["registrationExpiresAt"]);
    assert_eq!(status["sessionEndsAt"], token["registrationExpiresAt"]);
    assert_eq!(status["sessionExpiresAt"], token["expiresAt"]);
}

#[test]
fn without_a_refresh_token_the_session_ends_with_the_token() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--no-refresh-tokens", "--token-ttl", "3600"]);
    sandbox.write_settings("warn_before: 2h\n");
    login(&sandbox);
    let again = login(&sandbox);
    assert!(again.contains("the session corp ends in 59m;"), "{again}");

    let status = status_json(&sandbox);
    assert_eq!(status["sessionRefreshable"], false);
    assert_eq!(status["sessionRefreshableUntil"], serde_json::Value::Null);
    assert_eq!(status["sessionEndsAt"], token_file(&sandbox)["expiresAt"]);
}

#[test]
fn a_session_with_more_than_warn_before_left_or_no_setting_is_not_warned_about() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    login(&sandbox);
    assert!(!login(&sandbox).contains("ends in"));
    // 90 days of refreshing left.
    sandbox.write_settings("warn_before: 24h\nsessions:\n  other:\n    warn_before: 100d\n");
    assert!(!login(&sandbox).contains("ends in"));
}
