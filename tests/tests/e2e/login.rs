//! `aws-sso-login` against the emulator: the stories of logging in, out, and what goes wrong.

use std::time::{Duration, Instant};

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn help_is_what_a_user_reads() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    for args in
        [&["--help"][..], &["status", "--help"], &["logout", "--help"], &["configure", "--help"]]
    {
        let out = sandbox.cmd("aws-sso-login").args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let name = format!("help_{}", args.join("_").replace("--", ""));
        insta::assert_snapshot!(name, stdout(&out));
    }
}

#[test]
fn browser_login_writes_a_token_the_cli_can_read() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("browser_login", stderr(&out)) });

    let opens = sandbox.browser_opens();
    assert_eq!(opens.len(), 1, "one browser tab: {opens:?}");
    assert!(
        opens[0].starts_with(&format!(
            "{}/authorize?response_type=code&client_id=",
            sandbox.emulator.url
        ))
    );
    assert!(opens[0].contains("&scopes=sso%3Aaccount%3Aaccess&code_challenge="), "{}", opens[0]);

    let token_path = sandbox.token_path("corp");
    let token = read_json(&token_path);
    let keys: Vec<&str> = token.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "startUrl",
            "region",
            "accessToken",
            "expiresAt",
            "clientId",
            "clientSecret",
            "registrationExpiresAt",
            "refreshToken"
        ],
        "the AWS CLI's key order"
    );
    assert_eq!(token["startUrl"], "https://d-1234567890.awsapps.com/start");
    assert_eq!(token["region"], "us-east-1");
    assert!(token["expiresAt"].as_str().expect("string").ends_with('Z'));
    #[cfg(unix)]
    {
        assert_eq!(mode(&token_path), 0o600);
        assert_eq!(mode(&sandbox.sso_cache()), 0o700);
    }

    // Logged in already: nothing to do, no browser.
    let again = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).starts_with("Already logged in to corp;"), "{}", stderr(&again));
    assert_eq!(sandbox.browser_opens().len(), 1);

    // --force logs in again, reusing the registration.
    let forced = sandbox.cmd("aws-sso-login").arg("--force").output().expect("run");
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(sandbox.browser_opens().len(), 2);
    let ops = sandbox.emulator.operations();
    assert_eq!(ops.iter().filter(|o| *o == "RegisterClient").count(), 1, "{ops:?}");
}

#[test]
fn device_code_login_prints_the_code() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--device-approval", "after:2"]);
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["--use-device-code", "--no-browser"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains(&format!("{}/device", sandbox.emulator.url)), "{text}");
    assert!(text.contains("Then enter the code:"), "{text}");
    with_filters!(sandbox, {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", "[CODE]");
        settings.bind(|| insta::assert_snapshot!("device_login", text));
    });
    assert!(sandbox.browser_opens().is_empty(), "--no-browser opens nothing");
    assert!(sandbox.token_path("corp").exists());
}

#[test]
fn device_code_login_is_chosen_over_ssh() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--device-approval", "browser"]);
    let out = sandbox
        .cmd("aws-sso-login")
        .env("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 5555")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let opens = sandbox.browser_opens();
    assert_eq!(opens.len(), 1);
    assert!(
        opens[0].starts_with(&format!("{}/device?user_code=", sandbox.emulator.url)),
        "{opens:?}"
    );
}

#[test]
fn slow_down_adds_five_seconds_between_polls() {
    let sandbox = Sandbox::new(
        ONE_SESSION,
        &["--slow-down", "1", "--interval", "1", "--device-approval", "after:0"],
    );
    let started = Instant::now();
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["--use-device-code", "--no-browser"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "after slow_down the next poll must wait interval + 5 s; took {:?}",
        started.elapsed()
    );
    let polls = sandbox.emulator.operations().iter().filter(|o| *o == "CreateToken").count();
    assert_eq!(polls, 2, "one poll answered slow_down, the next one approved");
}

/// The error a user reads, without the instructions printed before it.
fn error_lines(out: &std::process::Output) -> String {
    let text = stderr(out);
    text.lines()
        .skip_while(|l| !l.starts_with("aws-sso-login: error:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn denied_device_login_says_so() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--device-approval", "deny"]);
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["--use-device-code", "--no-browser"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = error_lines(&out);
    insta::assert_snapshot!("device_denied", error);
    assert!(!sandbox.token_path("corp").exists());
}

#[test]
fn expired_device_code_is_reported() {
    let sandbox = Sandbox::new(
        ONE_SESSION,
        &["--device-approval", "never", "--device-code-ttl", "2", "--interval", "1"],
    );
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["--use-device-code", "--no-browser"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = error_lines(&out);
    insta::assert_snapshot!("device_expired", error);
}

#[test]
fn an_expired_token_is_refreshed_without_the_browser() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let path = sandbox.token_path("corp");
    let mut token = read_json(&path);
    let old_access = token["accessToken"].clone();
    token["expiresAt"] = Value::from("2020-01-01T00:00:00Z");
    std::fs::write(&path, serde_json::to_string(&token).expect("json")).expect("write");

    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("Refreshed the login to corp;"), "{}", stderr(&out));
    assert_eq!(sandbox.browser_opens().len(), 1, "no second browser tab");
    let fresh = read_json(&path);
    assert_ne!(fresh["accessToken"], old_access);
    assert!(fresh["expiresAt"].as_str().expect("string") > "2026-01-01");
    assert!(fresh["refreshToken"].is_string());
}

#[test]
fn logout_removes_the_token_and_that_sessions_role_credentials() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    assert!(sandbox.cmd("aws-sso-login").output().expect("run").status.success());
    let cli = sandbox.cli_cache();
    std::fs::create_dir_all(&cli).expect("mkdir");
    // The entry the AWS CLI writes for profile dev: sha1 of its sorted compact args.
    let ours = aws_sso_tests::sandbox::sha1_hex(
        r#"{"accountId":"100000000001","roleName":"ReadOnlyAccess","sessionName":"corp"}"#,
    );
    let sso_entry = r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z", "AccountId": "100000000001"}}"#;
    std::fs::write(cli.join(format!("{ours}.json")), sso_entry).expect("write");
    let assume_role = r#"{"Credentials": {"AccessKeyId": "ASIA2", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}}"#;
    std::fs::write(cli.join("assume-role.json"), assume_role).expect("write");
    let other_session = r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIA3", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z", "AccountId": "9"}}"#;
    std::fs::write(cli.join("other-session.json"), other_session).expect("write");
    let registrations: Vec<_> = std::fs::read_dir(sandbox.sso_cache()).expect("dir").collect();

    let out = sandbox.cmd("aws-sso-login").arg("logout").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("logout", stderr(&out));
    assert!(!sandbox.token_path("corp").exists());
    assert!(!cli.join(format!("{ours}.json")).exists());
    assert!(cli.join("assume-role.json").exists(), "assume-role entries are not ours");
    assert!(cli.join("other-session.json").exists(), "another session's credentials stay");
    let left: Vec<_> = std::fs::read_dir(sandbox.sso_cache()).expect("dir").collect();
    assert_eq!(left.len(), registrations.len() - 1, "the registration is kept");
    assert!(sandbox.emulator.operations().contains(&"Logout".to_owned()));

    let status =
        sandbox.cmd("aws-sso-login").args(["status", "--output", "json"]).output().expect("run");
    let status: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(status[0]["loggedIn"], false);
}

#[test]
fn two_logins_at_once_open_one_browser_tab() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--latency-ms", "200"]);
    let children: Vec<_> = (0..2)
        .map(|_| {
            sandbox
                .std_cmd("aws-sso-login")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<_> =
        children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    assert_eq!(sandbox.browser_opens().len(), 1, "one browser tab");
    let messages: Vec<String> = outputs.iter().map(stderr).collect();
    assert_eq!(
        messages.iter().filter(|m| m.contains("Logged in to corp")).count(),
        1,
        "{messages:?}"
    );
    assert_eq!(
        messages.iter().filter(|m| m.starts_with("Already logged in to corp")).count(),
        1,
        "{messages:?}"
    );
    let ops = sandbox.emulator.operations();
    assert_eq!(ops.iter().filter(|o| *o == "CreateToken").count(), 1, "one token: {ops:?}");
}

#[test]
fn a_corrupt_token_file_is_reported_and_replaced_by_a_login() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let path = sandbox.token_path("corp");
    std::fs::create_dir_all(sandbox.sso_cache()).expect("mkdir");
    std::fs::write(&path, "{\"accessToken\": \"half-writ").expect("write");

    let status = sandbox.cmd("aws-sso-login").arg("status").output().expect("run");
    assert!(status.status.success(), "{}", stderr(&status));
    with_filters!(sandbox, {
        insta::assert_snapshot!(
            "corrupt_status",
            format!("{}---\n{}", stdout(&status), stderr(&status))
        )
    });

    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("half-writ"), "file content never echoed");
    assert!(read_json(&path)["accessToken"].is_string());
}

#[test]
fn a_missing_sso_session_lists_the_ones_there_are() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = sandbox.cmd("aws-sso-login").args(["--sso-session", "prod"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("missing_session", stderr(&out)) });

    let empty = Sandbox::new("", &[]);
    let out = empty.cmd("aws-sso-login").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    with_filters!(empty, { insta::assert_snapshot!("no_session", stderr(&out)) });
}

#[test]
fn several_sessions_need_a_choice() {
    let config = format!(
        "{ONE_SESSION}\n[sso-session other]\nsso_start_url = https://d-999.awsapps.com/start\nsso_region = eu-west-1\n"
    );
    let sandbox = Sandbox::new(&config, &[]);
    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("ambiguous_session", stderr(&out)) });

    let out = sandbox.cmd("aws-sso-login").env("AWS_PROFILE", "dev").output().expect("run");
    assert!(out.status.success(), "AWS_PROFILE's session is used: {}", stderr(&out));
    assert!(sandbox.token_path("corp").exists());
}

#[test]
fn an_unreachable_endpoint_fails_fast_and_says_where() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let started = Instant::now();
    let out = sandbox
        .cmd("aws-sso-login")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(30), "bounded by the timeouts");
    with_filters!(sandbox, { insta::assert_snapshot!("unreachable", stderr(&out)) });
}

#[test]
fn status_shows_every_session() {
    let config = format!(
        "{ONE_SESSION}\n[sso-session other]\nsso_start_url = https://d-999.awsapps.com/start\nsso_region = eu-west-1\n\n[profile legacy]\nsso_start_url = https://d-legacy.awsapps.com/start\nsso_region = us-west-2\nsso_account_id = 1\nsso_role_name = R\n"
    );
    let sandbox = Sandbox::new(&config, &[]);
    assert!(
        sandbox
            .cmd("aws-sso-login")
            .args(["--sso-session", "corp"])
            .output()
            .expect("run")
            .status
            .success()
    );

    let table = sandbox.cmd("aws-sso-login").arg("status").output().expect("run");
    assert!(table.status.success(), "{}", stderr(&table));
    with_filters!(sandbox, { insta::assert_snapshot!("status_table", stdout(&table)) });

    let json =
        sandbox.cmd("aws-sso-login").args(["status", "--output", "json"]).output().expect("run");
    assert!(json.status.success(), "{}", stderr(&json));
    let value: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value.as_array().expect("array").len(), 3);
    assert_eq!(value[0]["ssoSession"], "corp");
    assert_eq!(value[0]["loggedIn"], true);
    assert_eq!(value[0]["refreshable"], true);
    assert_eq!(value[1]["ssoSession"], "other");
    assert_eq!(value[1]["loggedIn"], false);
    assert_eq!(value[2]["profile"], "legacy");
    with_filters!(sandbox, { insta::assert_snapshot!("status_json", stdout(&json)) });
}

#[test]
fn configure_adds_a_session_and_keeps_the_rest_of_the_file() {
    let original = "# my settings\n[default]\nregion = eu-west-1 # where I work\n\n[profile dev]\nsso_session = corp\n";
    let sandbox = Sandbox::new(original, &[]);
    let out = sandbox
        .cmd("aws-sso-login")
        .args([
            "configure",
            "--sso-session",
            "corp",
            "--start-url",
            "https://d-1234567890.awsapps.com/start",
            "--region",
            "us-east-1",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("configure_added", stderr(&out)) });
    let written = std::fs::read_to_string(sandbox.config_path()).expect("read");
    assert!(written.starts_with(original), "every byte before is kept:\n{written}");
    insta::assert_snapshot!("configure_file", written);

    // Changing the region edits that one line.
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["configure", "--sso-session", "corp", "--region", "eu-central-1"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let edited = std::fs::read_to_string(sandbox.config_path()).expect("read");
    assert_eq!(edited, written.replace("sso_region = us-east-1", "sso_region = eu-central-1"));

    // Then it logs in.
    assert!(sandbox.cmd("aws-sso-login").output().expect("run").status.success());
}

#[test]
fn configure_without_a_terminal_says_what_is_missing() {
    let sandbox = Sandbox::new("", &[]);
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["configure", "--sso-session", "corp"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    insta::assert_snapshot!("configure_missing", stderr(&out));
    let bad = sandbox
        .cmd("aws-sso-login")
        .args([
            "configure",
            "--sso-session",
            "corp",
            "--start-url",
            "http://insecure",
            "--region",
            "us-east-1",
        ])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    insta::assert_snapshot!("configure_bad_url", stderr(&bad));
    assert!(!sandbox.config_path().exists(), "nothing written on bad input");
}

#[test]
fn a_legacy_profile_logs_in_with_a_device_code_keyed_by_its_start_url() {
    let config = "[profile legacy]\nsso_start_url = https://d-legacy.awsapps.com/start\nsso_region = us-west-2\nsso_account_id = 100000000001\nsso_role_name = ReadOnlyAccess\n";
    let sandbox = Sandbox::new(config, &["--device-approval", "browser"]);
    let out = sandbox.cmd("aws-sso-login").args(["--profile", "legacy"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let opens = sandbox.browser_opens();
    assert_eq!(opens.len(), 1);
    assert!(
        opens[0].contains("/device?user_code="),
        "the AWS CLI uses the device flow here: {opens:?}"
    );
    let token = read_json(&sandbox.token_path("https://d-legacy.awsapps.com/start"));
    assert_eq!(token["startUrl"], "https://d-legacy.awsapps.com/start");
    assert_eq!(token["region"], "us-west-2");
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_leaves_nothing_behind() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    // A browser that never approves: the login waits for the redirect until interrupted.
    let child = sandbox
        .std_cmd("aws-sso-login")
        .env("BROWSER", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sandbox.emulator.operations().contains(&"RegisterClient".to_owned()) {
        assert!(Instant::now() < deadline, "the login never registered");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("login cancelled; nothing was changed"), "{}", stderr(&out));
    assert!(!sandbox.token_path("corp").exists());
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.sso_cache())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files: {leftovers:?}");
}

#[test]
fn a_registration_the_service_forgot_is_replaced_and_the_login_goes_on() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--device-approval", "browser"]);
    let device = ["--use-device-code"];
    let first = sandbox.cmd("aws-sso-login").args(device).output().expect("run");
    assert!(first.status.success(), "{}", stderr(&first));
    // The service forgets the client (an administrator deleted it, the emulator restarted):
    // the cached registration now names a client it does not know.
    let registration = std::fs::read_dir(sandbox.sso_cache())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p != &sandbox.token_path("corp"))
        .expect("a registration beside the token");
    let mut cached = read_json(&registration);
    cached["clientId"] = "forgotten-client".into();
    std::fs::write(&registration, cached.to_string()).expect("write");

    let again = sandbox.cmd("aws-sso-login").args(device).arg("--force").output().expect("run");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again)
            .contains("The service rejected the cached client registration; registering again."),
        "{}",
        stderr(&again)
    );
    let ops = sandbox.emulator.operations();
    assert_eq!(ops.iter().filter(|o| *o == "RegisterClient").count(), 2, "{ops:?}");
    assert_ne!(read_json(&registration)["clientId"], "forgotten-client");
    assert_eq!(
        read_json(&sandbox.token_path("corp"))["clientId"],
        read_json(&registration)["clientId"]
    );
    assert_eq!(sandbox.browser_opens().len(), 2, "one approval per login");
}

/// A session whose start URL is the emulator's `/start`, standing in for a custom domain.
fn vanity_sandbox(emulator_args: &[&str]) -> (Sandbox, String) {
    let sandbox = Sandbox::new("", emulator_args);
    let start_url = format!("{}/start", sandbox.emulator.url);
    let config = format!(
        "# our company's portal\n[sso-session corp]\nsso_start_url = {start_url}\nsso_region = us-east-1\n\n[profile dev]\nsso_session = corp\n"
    );
    std::fs::write(sandbox.config_path(), config).expect("config");
    (sandbox, start_url)
}

#[test]
fn a_start_url_on_a_custom_domain_logs_in_to_the_portal_it_leads_to_and_learns_its_region() {
    let portal = "https://ssoins-0000000000000001.portal.eu-west-1.app.aws";
    let (sandbox, start_url) = vanity_sandbox(&["--start-redirect", &format!("{portal}/start/")]);
    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains(
            "The start URL leads to a portal in eu-west-1, not us-east-1: sso_region updated in"
        ),
        "{text}"
    );
    // The service saw the portal's own URL; the cache keeps the one configured, so the AWS CLI
    // and the SDKs find the token, and the region the portal named.
    let clients = sandbox.emulator.clients();
    assert_eq!(clients.len(), 1, "{clients:?}");
    assert_eq!(clients[0]["issuerUrl"], format!("{portal}/start"));
    let token = read_json(&sandbox.token_path("corp"));
    assert_eq!(token["startUrl"], start_url);
    assert_eq!(token["region"], "eu-west-1");
    let config = std::fs::read_to_string(sandbox.config_path()).expect("config");
    assert_eq!(
        config,
        format!(
            "# our company's portal\n[sso-session corp]\nsso_start_url = {start_url}\nsso_region = eu-west-1\n\n[profile dev]\nsso_session = corp\n"
        ),
        "only sso_region changed"
    );
    let heads: Vec<Value> =
        sandbox.emulator.requests().into_iter().filter(|r| r["path"] == "/start").collect();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_eq!(heads[0]["method"], "HEAD");

    // From now on the session works in its region like any other.
    let ls = sandbox.cmd("aws-sso-ls").args(["-o", "ids"]).output().expect("ls");
    assert!(ls.status.success(), "{}", stderr(&ls));
    let again = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(stderr(&again).starts_with("Already logged in to corp;"), "{}", stderr(&again));
}

#[test]
fn a_start_url_that_leads_to_no_aws_portal_is_refused_before_anything_is_sent() {
    let (sandbox, start_url) = vanity_sandbox(&[]);
    let out = sandbox.cmd("aws-sso-login").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "The start URL {start_url} leads to {start_url}, which is not an AWS access portal."
        )),
        "{}",
        stderr(&out)
    );
    assert!(sandbox.emulator.clients().is_empty(), "no client registered");
    assert!(sandbox.browser_opens().is_empty());
}

#[test]
fn a_custom_domain_without_sso_region_learns_it_at_the_first_login() {
    let portal = "https://ssoins-0000000000000001.portal.ap-south-1.app.aws/start";
    let (sandbox, start_url) = vanity_sandbox(&["--start-redirect", portal]);
    let config = format!("[sso-session corp]\nsso_start_url = {start_url}\n");
    std::fs::write(sandbox.config_path(), &config).expect("config");

    // Before the login, the commands send the user to it.
    let ls = sandbox.cmd("aws-sso-ls").output().expect("ls");
    assert_eq!(ls.status.code(), Some(3), "{}", stderr(&ls));
    assert!(
        stderr(&ls).contains("Not logged in to corp. Run: aws-sso-login --sso-session corp"),
        "{}",
        stderr(&ls)
    );

    let login = sandbox.cmd("aws-sso-login").output().expect("login");
    assert!(login.status.success(), "{}", stderr(&login));
    assert!(
        stderr(&login).contains("The start URL leads to a portal in ap-south-1: sso_region set in"),
        "{}",
        stderr(&login)
    );
    let written = std::fs::read_to_string(sandbox.config_path()).expect("config");
    assert_eq!(written, format!("{config}sso_region = ap-south-1\n"));
    let ls = sandbox.cmd("aws-sso-ls").args(["-o", "ids"]).output().expect("ls");
    assert!(ls.status.success(), "{}", stderr(&ls));

    // Someone takes the region out again: the token is there, but no endpoint can be chosen.
    std::fs::write(sandbox.config_path(), &config).expect("config");
    let refresh = sandbox.cmd("aws-sso-ls").arg("--refresh").output().expect("ls");
    assert_eq!(refresh.status.code(), Some(3), "{}", stderr(&refresh));
    assert!(
        stderr(&refresh).contains(
            "The region of corp is not known yet: it has no sso_region, and its start URL names it only once followed. Run: aws-sso-login --sso-session corp"
        ),
        "{}",
        stderr(&refresh)
    );
    let status = sandbox.cmd("aws-sso-login").arg("status").output().expect("status");
    assert!(status.status.success(), "{}", stderr(&status));
    let line = stdout(&status).lines().nth(1).unwrap_or_default().to_owned();
    assert!(line.contains(&format!("{start_url}  (not known yet)  logged in")), "{line}");
}

#[test]
fn configure_leaves_the_region_of_a_custom_domain_to_the_first_login() {
    let sandbox = Sandbox::new("", &[]);
    let out = sandbox
        .cmd("aws-sso-login")
        .args([
            "configure",
            "--sso-session",
            "corp",
            "--start-url",
            "https://sso.example.com/start",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("Its region is learned from where the start URL leads, at the first login."),
        "{}",
        stderr(&out)
    );
    let written = std::fs::read_to_string(sandbox.config_path()).expect("config");
    assert_eq!(
        written,
        "[sso-session corp]\nsso_start_url = https://sso.example.com/start\nsso_registration_scopes = sso:account:access\n"
    );
    // An AWS portal URL names no region: it must be given.
    let out = sandbox
        .cmd("aws-sso-login")
        .args([
            "configure",
            "--sso-session",
            "aws",
            "--start-url",
            "https://d-1234567890.awsapps.com/start",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing --region REGION"), "{}", stderr(&out));
}
