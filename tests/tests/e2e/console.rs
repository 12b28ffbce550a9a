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

// Where the console lands: the region reaches destination pages, service names open their
// console home, and `--portal` hands the account and role to the access portal instead.

/// Where the emulator sends the browser that opens the sign-in link `out` printed.
fn landing(sandbox: &Sandbox, out: &std::process::Output) -> Option<String> {
    assert!(out.status.success(), "{}", stderr(out));
    let link = stdout(out);
    let target = link.trim().strip_prefix(&sandbox.emulator.url).expect("an emulator link");
    let reply = sandbox.emulator.send("GET", target, &[], "");
    assert_eq!(reply.status, 302, "{}\n{}", reply.head, reply.body);
    location(&reply.head)
}

#[test]
fn the_region_reaches_a_destination_page_unless_its_url_names_one() {
    let sandbox = Sandbox::logged_in(&[]);
    let ec2 = "https://console.aws.amazon.com/ec2/home";
    for (args, expected) in [
        (
            &["100000000001", "ReadOnlyAccess", "--region", "ap-southeast-2", "--destination", ec2]
                [..],
            "https://console.aws.amazon.com/ec2/home?region=ap-southeast-2",
        ),
        // The profile's region, before the console's own `#/` route.
        (
            &[
                "--profile",
                "dev",
                "--destination",
                "https://console.aws.amazon.com/iam/home#/roles",
            ],
            "https://console.aws.amazon.com/iam/home?region=eu-west-1#/roles",
        ),
        // A page copied from the console keeps the region it was in.
        (
            &[
                "--profile",
                "dev",
                "--region",
                "ap-southeast-2",
                "--destination",
                "https://console.aws.amazon.com/ec2/home?region=us-west-2#Instances:",
            ],
            "https://console.aws.amazon.com/ec2/home?region=us-west-2#Instances:",
        ),
        (
            &["--profile", "dev", "--destination", "https://us-west-2.console.aws.amazon.com/s3/"],
            "https://us-west-2.console.aws.amazon.com/s3/",
        ),
    ] {
        let mut all = vec!["--print"];
        all.extend_from_slice(args);
        let out = console(&sandbox, &all);
        assert_eq!(landing(&sandbox, &out).as_deref(), Some(expected), "{args:?}");
    }
}

#[test]
fn a_service_name_opens_its_console_home_in_the_region_and_partition() {
    let sandbox = Sandbox::logged_in(&[]);
    for (args, expected) in [
        (
            &["--destination", "s3", "--region", "ap-southeast-2"][..],
            "https://ap-southeast-2.console.aws.amazon.com/s3/home?region=ap-southeast-2",
        ),
        (
            &["--destination", "EC2"],
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1",
        ),
        (
            &["--destination", "dynamodb", "--region", "us-east-2"],
            "https://us-east-2.console.aws.amazon.com/dynamodbv2/home?region=us-east-2",
        ),
        (
            &["--destination", "lambda", "--region", "cn-north-1"],
            "https://console.amazonaws.cn/lambda/home?region=cn-north-1",
        ),
        (
            &["--destination", "cloudformation", "--region", "us-gov-west-1"],
            "https://console.amazonaws-us-gov.com/cloudformation/home?region=us-gov-west-1",
        ),
        // A service the list does not name, and no typo of one: its home by the usual path.
        (
            &["--destination", "sagemaker"],
            "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1",
        ),
    ] {
        let mut all = vec!["--profile", "dev", "--print"];
        all.extend_from_slice(args);
        let out = console(&sandbox, &all);
        assert_eq!(landing(&sandbox, &out).as_deref(), Some(expected), "{args:?}");
    }
}

#[test]
fn an_unknown_service_name_is_refused_with_close_names_before_any_request() {
    let sandbox = Sandbox::logged_in(&[]);
    sandbox.emulator.reset_log();
    let opened_by_login = sandbox.browser_opens();
    let out = console(&sandbox, &["--profile", "dev", "--print", "--destination", "lamda"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!("console_unknown_service", stderr(&out));

    let out =
        console(&sandbox, &["--profile", "dev", "--destination", "console.aws.amazon.com/s3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    insta::assert_snapshot!("console_destination_without_scheme", stderr(&out));

    assert_eq!(sandbox.emulator.requests(), Vec::<serde_json::Value>::new());
    assert_eq!(sandbox.browser_opens(), opened_by_login);
}

/// A stand-in browser that only logs what it is given: the portal link points at the real
/// access portal, which a test must not reach.
fn logging_browser(sandbox: &Sandbox) -> std::path::PathBuf {
    let path = sandbox.path().join("log-only-browser.sh");
    let script =
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", sandbox.browser_log().display());
    std::fs::write(&path, script).expect("write the browser");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    path
}

#[test]
fn portal_gives_the_shortcut_link_with_account_role_and_destination_and_makes_no_request() {
    // Not logged in: the portal link needs no token, no credentials and no federation call.
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = console(
        &sandbox,
        &[
            "100000000001",
            "ReadOnlyAccess",
            "--portal",
            "--print",
            "--destination",
            "s3",
            "--region",
            "ap-southeast-2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "https://d-1234567890.awsapps.com/start/#/console?account_id=100000000001\
         &role_name=ReadOnlyAccess&destination=https%3A%2F%2Fap-southeast-2.console.aws.amazon.com\
         %2Fs3%2Fhome%3Fregion%3Dap-southeast-2\n"
    );
    assert_eq!(stderr(&out), "");

    // Without a page or a region asked for, no destination: the permission set's relay state
    // or the console home applies, as from the portal itself.
    let out = console(&sandbox, &["--profile", "dev", "--portal", "--print"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "https://d-1234567890.awsapps.com/start/#/console?account_id=100000000001\
         &role_name=ReadOnlyAccess\n"
    );

    // Opened: the browser gets the same kind of link, stdout stays empty.
    let browser = logging_browser(&sandbox);
    let out = sandbox
        .cmd("aws-sso-env")
        .args([
            "console",
            "--profile",
            "dev",
            "--portal",
            "--destination",
            "https://console.aws.amazon.com/ec2/home",
        ])
        .env("AWS_SSO_FEDERATION_ENDPOINT", &sandbox.emulator.url)
        .env("BROWSER", &browser)
        .output()
        .expect("run aws-sso-env console --portal");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!("console_portal_opened", stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(10);
    while sandbox.browser_opens().is_empty() {
        assert!(Instant::now() < deadline, "the browser never got the link");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        sandbox.browser_opens(),
        ["https://d-1234567890.awsapps.com/start/#/console?account_id=100000000001\
          &role_name=ReadOnlyAccess&destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fec2%2Fhome\
          %3Fregion%3Deu-west-1"]
    );

    assert_eq!(sandbox.emulator.requests(), Vec::<serde_json::Value>::new());
}

#[test]
fn portal_resolves_names_from_the_account_cache_only() {
    let sandbox = Sandbox::listed(&[]);
    sandbox.emulator.reset_log();
    let out = console(&sandbox, &["account-001", "ReadOnly", "--portal", "--print"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "https://d-1234567890.awsapps.com/start/#/console?account_id=100000000001\
         &role_name=ReadOnlyAccess\n"
    );

    // With no account list cached, a name cannot be resolved without a request: say how to.
    let empty = Sandbox::logged_in(&[]);
    empty.emulator.reset_log();
    let out = console(&empty, &["account-001", "--portal", "--print"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!("console_portal_name_uncached", stderr(&out));
    assert_eq!(sandbox.emulator.requests(), Vec::<serde_json::Value>::new());
    assert_eq!(empty.emulator.requests(), Vec::<serde_json::Value>::new());

    // The log does see the console's requests: the same command without --portal federates.
    let out = console(&sandbox, &["account-001", "ReadOnly", "--print"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let paths: Vec<_> =
        sandbox.emulator.requests().iter().map(|r| r["path"].as_str().map(str::to_owned)).collect();
    assert!(paths.contains(&Some("/federation".to_owned())), "{paths:?}");
}
