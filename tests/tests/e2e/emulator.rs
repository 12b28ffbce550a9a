//! The emulator against botocore: a client nobody here wrote must find it faithful to AWS.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Command;

use aws_sso_tests::emulator::{Emulator, Stats};
use aws_sso_tests::python::python_with_botocore;

const ACCOUNTS: &str = "7";
const ROLES_PER_ACCOUNT: &str = "3";
const CREDENTIALS_TTL: &str = "900";

#[test]
fn botocore_accepts_every_answer_of_the_emulator() {
    let Some(python) = python_with_botocore() else { return };
    let default = Emulator::start(&[
        "--accounts",
        ACCOUNTS,
        "--roles-per-account",
        ROLES_PER_ACCOUNT,
        "--credentials-ttl",
        CREDENTIALS_TTL,
    ]);
    let slow_down = Emulator::start(&["--slow-down", "2", "--device-approval", "after:0"]);
    let expire = Emulator::start(&["--device-approval", "never", "--device-code-ttl", "1"]);
    let deny = Emulator::start(&["--device-approval", "deny"]);
    let browser = Emulator::start(&["--device-approval", "browser"]);
    let authorize_deny = Emulator::start(&["--authorize", "deny"]);
    let no_rotate = Emulator::start(&["--no-rotate-refresh-tokens"]);
    let throttle = Emulator::start(&["--rate-limit", "1"]);
    let fail_first = Emulator::start(&["--fail-first", "2"]);
    let throttle_every = Emulator::start(&["--throttle-every", "3"]);
    let fail_burst = Emulator::start(&["--fail-burst", "2", "--fail-burst-every", "4"]);
    let hang = Emulator::start(&["--hang-first", "1", "--hang-ms", "3000"]);
    let token_expiry = Emulator::start(&["--token-expires-after-requests", "2"]);
    let hostile = Emulator::start(&[
        "--accounts",
        "8",
        "--roles-per-account",
        "1",
        "--accounts-without-roles",
        "1",
        "--name-style",
        "hostile",
    ]);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/emulator_fidelity.py");
    let output = Command::new(&python)
        .arg(&script)
        .args(["--default", &default.url])
        .args(["--accounts", ACCOUNTS, "--roles-per-account", ROLES_PER_ACCOUNT])
        .args(["--credentials-ttl", CREDENTIALS_TTL])
        .args(["--slow-down", &slow_down.url, "--expire", &expire.url, "--deny", &deny.url])
        .args(["--browser", &browser.url, "--authorize-deny", &authorize_deny.url])
        .args(["--no-rotate", &no_rotate.url, "--throttle", &throttle.url])
        .args(["--fail-first", &fail_first.url])
        .args(["--throttle-every", &throttle_every.url, "--fail-burst", &fail_burst.url])
        .args(["--hang", &hang.url, "--token-expiry", &token_expiry.url])
        .args(["--hostile", &hostile.url])
        // Nothing from the developer's own AWS setup may reach botocore.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SSO")
        .env_remove("AWS_ENDPOINT_URL_SSO_OIDC")
        .env_remove("AWS_RETRY_MODE")
        .env_remove("AWS_MAX_ATTEMPTS")
        .output()
        .expect("run the fidelity script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} failed ({}):\n{stdout}\n--- stderr ---\n{}\n--- emulator log (default) ---\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr),
        default.stderr()
    );
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ok ")).count(), 18, "{stdout}");

    // botocore reached every operation on the path the emulator serves it at.
    let operations = default.operations();
    for expected in [
        "RegisterClient",
        "StartDeviceAuthorization",
        "CreateToken",
        "Authorize",
        "ListAccounts",
        "ListAccountRoles",
        "GetRoleCredentials",
        "Logout",
    ] {
        assert!(operations.iter().any(|op| op == expected), "no {expected} in {operations:?}");
    }
    assert!(!operations.iter().any(|op| op == "Unknown"), "{operations:?}");
}

#[test]
fn the_request_log_names_each_operation_and_can_be_reset() {
    let emulator = Emulator::start(&["--quiet"]);
    assert!(emulator.requests().is_empty());
    let body = r#"{"clientName":"log-test","clientType":"public","scopes":["sso:account:access"]}"#;
    let answer = raw_request(&emulator, "POST", "/client/register", &[], body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = raw_request(&emulator, "GET", "/assignment/accounts?max_result=5", &[], "");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains(
            "x-amzn-errortype: unauthorizedexception:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
        ),
        "{answer}"
    );

    let requests = emulator.requests();
    assert_eq!(
        requests,
        [
            serde_json::json!({"method":"POST","path":"/client/register","operation":"RegisterClient","status":200}),
            serde_json::json!({"method":"GET","path":"/assignment/accounts","operation":"ListAccounts","status":401}),
        ]
    );
    let clients = emulator.clients();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0]["clientName"], "log-test");
    assert_eq!(clients[0]["scopes"], serde_json::json!(["sso:account:access"]));
    assert!(clients[0].get("clientSecret").is_none(), "{clients:?}");

    emulator.reset_log();
    assert!(emulator.operations().is_empty());
    assert!(emulator.stderr().is_empty(), "--quiet still logged: {}", emulator.stderr());
}

#[test]
fn requests_are_logged_to_stderr_without_secrets() {
    let emulator = Emulator::start(&[]);
    let answer = raw_request(
        &emulator,
        "GET",
        "/assignment/accounts",
        &[("x-amz-sso_bearer_token", "SECRET-TOKEN")],
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // The line is written before the answer is sent, but read from the pipe by another thread.
    let mut log = emulator.stderr();
    for _ in 0..100 {
        if log.contains("ListAccounts") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        log = emulator.stderr();
    }
    assert!(
        log.contains("GET /assignment/accounts ListAccounts 401 UnauthorizedException"),
        "{log}"
    );
    assert!(!log.contains("SECRET-TOKEN"), "{log}");
}

#[test]
fn a_fixture_file_sets_the_accounts_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("accounts.json");
    std::fs::write(
        &fixture,
        r#"{"accounts":[{"accountId":"111122223333","accountName":"prod","emailAddress":"prod@example.com","roles":["ReadOnlyAccess","AdministratorAccess"]}]}"#,
    )
    .unwrap();
    let emulator = Emulator::start(&["--quiet", "--fixture", fixture.to_str().unwrap()]);
    let token = emulator.device_login().access_token;
    let accounts = raw_request(
        &emulator,
        "GET",
        "/assignment/accounts",
        &[("x-amz-sso_bearer_token", &token)],
        "",
    );
    assert!(accounts.contains(r#""accountList":[{"accountId":"111122223333","accountName":"prod","emailAddress":"prod@example.com"}]"#), "{accounts}");
    let roles = raw_request(
        &emulator,
        "GET",
        "/assignment/roles?account_id=111122223333",
        &[("x-amz-sso_bearer_token", &token)],
        "",
    );
    assert!(
        roles.contains(r#""roleList":[{"roleName":"AdministratorAccess","accountId":"111122223333"},{"roleName":"ReadOnlyAccess","accountId":"111122223333"}]"#),
        "{roles}"
    );
}

#[test]
fn help_documents_every_flag() {
    let output = Command::new(aws_sso_tests::emulator::workspace_bin("aws-sso-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--port",
        "--quiet",
        "--accounts",
        "--roles-per-account",
        "--fixture",
        "--device-code-ttl",
        "--interval",
        "--device-approval",
        "--slow-down",
        "--authorize",
        "--token-ttl",
        "--no-refresh-tokens",
        "--no-rotate-refresh-tokens",
        "--registration-ttl",
        "--credentials-ttl",
        "--latency-ms",
        "--rate-limit",
        "--fail-first",
        "--fail-rate",
        "--seed",
        "--throttle-every",
        "--fail-burst",
        "--fail-burst-every",
        "--hang-every",
        "--hang-first",
        "--hang-ms",
        "--token-expires-after-requests",
        "--accounts-without-roles",
        "--name-style",
        "--refresh-fault",
        "--url-file",
        "/_emulator/stats",
        "/_emulator/clear-faults",
        "aws-sso-emulator env",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}:\n{help}");
    }
}

/// One exchange, returned whole (status line, headers, body) for the older tests' checks.
fn raw_request(
    emulator: &Emulator,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let reply = emulator.send(method, target, headers, body);
    format!("{}\r\n\r\n{}", reply.head, reply.body)
}

#[test]
fn latency_is_added_to_every_answer() {
    let emulator = Emulator::start(&["--quiet", "--latency-ms", "300"]);
    let started = std::time::Instant::now();
    let answer = raw_request(&emulator, "GET", "/assignment/accounts", &[], "");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "{:?}", started.elapsed());
}

#[test]
fn sigterm_stops_the_emulator_with_success() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("a directory");
    let url_file = dir.path().join("url");
    std::fs::write(&url_file, "http://127.0.0.1:1\n").expect("a stale file to replace");
    let mut child = Command::new(aws_sso_tests::emulator::workspace_bin("aws-sso-emulator"))
        .arg("--quiet")
        .arg("--url-file")
        .arg(&url_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the emulator");
    let mut first_line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut first_line)
        .expect("read the URL");
    assert!(first_line.starts_with("http://127.0.0.1:"), "{first_line}");
    // --url-file holds the same line, written once the emulator listens.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&url_file).unwrap_or_default() != first_line {
        assert!(std::time::Instant::now() < deadline, "--url-file never held {first_line}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(killed.expect("run kill").success());
    let status = child.wait().expect("wait for the emulator");
    assert!(status.success(), "{status}");
    assert!(!url_file.exists(), "--url-file is taken back when the emulator stops");
}

// ---- faults, odd directories and scale ----

/// The statuses of `count` ListAccounts calls made one after the other with `token`.
fn list_statuses(emulator: &Emulator, token: &str, count: usize) -> Vec<u16> {
    (0..count).map(|_| emulator.portal_get("/assignment/accounts", token).status).collect()
}

/// Runs the emulator with `args` that it must refuse; returns what it said on stderr.
fn refused(args: &[&str]) -> String {
    let output = Command::new(aws_sso_tests::emulator::workspace_bin("aws-sso-emulator"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the emulator");
    assert!(!output.status.success(), "{args:?} was accepted");
    assert!(output.stdout.is_empty(), "{args:?} printed a URL");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn throttle_every_3_answers_one_request_in_three_with_429() {
    let emulator = Emulator::start(&["--quiet", "--throttle-every", "3"]);
    assert_eq!(emulator.stats(), Stats::default());
    let token = emulator.device_login().access_token;
    assert_eq!(list_statuses(&emulator, &token, 9), [200, 200, 429, 200, 200, 429, 200, 200, 429]);
    let roles = emulator.portal_get("/assignment/roles?account_id=100000000001", &token);
    assert_eq!(roles.status, 200, "request 10 is not a third: {}", roles.body);
    assert_eq!(emulator.portal_get("/assignment/accounts", &token).status, 200);
    let throttled = emulator.portal_get("/assignment/accounts", &token);
    assert_eq!(throttled.status, 429);
    let head = throttled.head.to_ascii_lowercase();
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(head.contains("x-amzn-errortype: toomanyrequestsexception:"), "{head}");
    assert_eq!(throttled.json(), serde_json::json!({"message": "Rate exceeded"}));
    assert_eq!(emulator.stats(), Stats { requests: 12, throttled: 4, failed: 0, hung: 0 });
}

#[test]
fn fail_bursts_answer_consecutive_requests_with_500_in_every_window() {
    let emulator = Emulator::start(&["--quiet", "--fail-burst", "2", "--fail-burst-every", "5"]);
    let token = emulator.device_login().access_token;
    assert_eq!(
        list_statuses(&emulator, &token, 10),
        [200, 200, 200, 500, 500, 200, 200, 200, 500, 500]
    );
    let failed = emulator.portal_get("/assignment/accounts", &token);
    assert_eq!(failed.status, 200);
    assert_eq!(emulator.stats(), Stats { requests: 11, throttled: 0, failed: 4, hung: 0 });

    assert!(refused(&["--fail-burst", "2"]).contains("--fail-burst-every"));
    let whole = refused(&["--fail-burst", "5", "--fail-burst-every", "5"]);
    assert!(whole.contains("must be less than --fail-burst-every"), "{whole}");
}

#[test]
fn a_hung_request_outlasts_a_client_timeout_and_the_next_one_is_answered() {
    let emulator = Emulator::start(&["--quiet", "--hang-first", "1", "--hang-ms", "1500"]);
    let token = emulator.device_login().access_token;
    let address = emulator.url.trim_start_matches("http://").to_owned();

    // A client with a 300 ms timeout gives up on the first portal request…
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_millis(300))).unwrap();
    write!(
        stream,
        "GET /assignment/accounts HTTP/1.1\r\nHost: {address}\r\nx-amz-sso_bearer_token: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buffer = [0; 64];
    // A signal meant for another test's child may interrupt the read: read again.
    let timed_out = loop {
        match stream.read(&mut buffer) {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            outcome => break outcome.unwrap_err(),
        }
    };
    assert!(
        matches!(timed_out.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        "{timed_out:?}"
    );
    drop(stream);

    // …and its retry is answered at once, while the first is still held back.
    let started = std::time::Instant::now();
    assert_eq!(emulator.portal_get("/assignment/accounts", &token).status, 200);
    assert!(started.elapsed() < std::time::Duration::from_millis(1000), "{:?}", started.elapsed());
    assert_eq!(emulator.stats(), Stats { requests: 2, throttled: 0, failed: 0, hung: 1 });

    // A patient client gets the normal answer after the wait.
    let every = Emulator::start(&["--quiet", "--hang-every", "2", "--hang-ms", "400"]);
    let token = every.device_login().access_token;
    let timings: Vec<_> = (0..4)
        .map(|_| {
            let started = std::time::Instant::now();
            let status = every.portal_get("/assignment/accounts", &token).status;
            (status, started.elapsed() >= std::time::Duration::from_millis(400))
        })
        .collect();
    assert_eq!(timings, [(200, false), (200, true), (200, false), (200, true)]);
    assert_eq!(every.stats().hung, 2);
}

#[test]
fn a_token_stops_working_after_its_requests_and_a_refreshed_one_works() {
    let emulator = Emulator::start(&["--quiet", "--token-expires-after-requests", "3"]);
    let login = emulator.device_login();
    let token = &login.access_token;
    let roles = emulator.portal_get("/assignment/roles?account_id=100000000001", token);
    assert_eq!(roles.status, 200);
    assert_eq!(list_statuses(&emulator, token, 3), [200, 200, 401]);
    let expired = emulator.portal_get("/assignment/roles?account_id=100000000002", token);
    assert_eq!(expired.status, 401);
    assert!(
        expired.head.to_ascii_lowercase().contains("x-amzn-errortype: unauthorizedexception:"),
        "{}",
        expired.head
    );
    assert_eq!(
        expired.json(),
        serde_json::json!({"message": "Session token not found or invalid"})
    );

    let refreshed = emulator.refresh(&login);
    assert_ne!(refreshed.access_token, login.access_token);
    assert_eq!(list_statuses(&emulator, &refreshed.access_token, 4), [200, 200, 200, 401]);
    assert_eq!(emulator.stats(), Stats { requests: 9, throttled: 0, failed: 0, hung: 0 });
}

#[test]
fn accounts_without_roles_are_listed_with_an_empty_role_list() {
    let emulator = Emulator::start(&[
        "--quiet",
        "--accounts",
        "3",
        "--roles-per-account",
        "2",
        "--accounts-without-roles",
        "2",
    ]);
    let token = emulator.device_login().access_token;
    let accounts = emulator.portal_get("/assignment/accounts", &token).json();
    assert_eq!(accounts["accountList"].as_array().map(Vec::len), Some(3), "{accounts}");
    for (id, roles) in [("100000000001", 0), ("100000000002", 0), ("100000000003", 2)] {
        let reply = emulator.portal_get(&format!("/assignment/roles?account_id={id}"), &token);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["roleList"].as_array().map(Vec::len), Some(roles), "{body}");
        assert!(body["nextToken"].is_null(), "{body}");
    }
    let too_many = refused(&["--accounts", "2", "--accounts-without-roles", "3"]);
    assert!(
        too_many.contains("--accounts-without-roles (3) cannot exceed --accounts (2)"),
        "{too_many}"
    );
}

/// Every account name the portal lists, paging `page_size` at a time.
fn listed_names(emulator: &Emulator, token: &str, page_size: usize) -> Vec<(String, String)> {
    let mut names = Vec::new();
    let mut target = format!("/assignment/accounts?max_result={page_size}");
    loop {
        let page = emulator.portal_get(&target, token).json();
        for account in page["accountList"].as_array().expect("an accountList") {
            let field = |name: &str| account[name].as_str().expect("a string").to_owned();
            names.push((field("accountId"), field("accountName")));
        }
        match page["nextToken"].as_str() {
            Some(next) => {
                target = format!(
                    "/assignment/accounts?max_result={page_size}&next_token={}",
                    encode(next)
                );
            }
            None => return names,
        }
    }
}

/// Percent-encodes all but the RFC 3986 unreserved characters, as clients must.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn hostile_generated_names_carry_every_troublemaker_and_a_duplicate() {
    let emulator = Emulator::start(&["--quiet", "--accounts", "8", "--name-style", "hostile"]);
    let token = emulator.device_login().access_token;
    let accounts = listed_names(&emulator, &token, 3);
    assert_eq!(accounts.len(), 8);
    assert_eq!(accounts[0], ("100000000001".to_owned(), r#"it's "prod" 001"#.to_owned()));
    let names: Vec<&str> = accounts.iter().map(|(_, name)| name.as_str()).collect();
    for needle in ["'", "\"", "$(", "`", ";", "é", "東京"] {
        assert!(names.iter().any(|name| name.contains(needle)), "no {needle} in {names:?}");
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 7, "one name is shared by two accounts: {names:?}");
    // The same names on every run.
    let again = Emulator::start(&["--quiet", "--accounts", "8", "--name-style", "hostile"]);
    let token = again.device_login().access_token;
    assert_eq!(listed_names(&again, &token, 100), accounts);
}

#[test]
fn a_fixture_may_hold_any_names_duplicates_and_accounts_without_roles() {
    let fixture = serde_json::json!({"accounts": [
        {"accountId": "111111111111", "accountName": "it's \"$(rm -rf ~)\"; `id` \\ Ærøskøbing 日本",
         "emailAddress": "a@example.com", "roles": ["ReadOnlyAccess"]},
        {"accountId": "222222222222", "accountName": "twin", "emailAddress": "b@example.com",
         "roles": []},
        {"accountId": "333333333333", "accountName": "twin", "emailAddress": "c@example.com",
         "roles": ["AdministratorAccess", "Billing"]},
    ]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, fixture.to_string()).unwrap();
    let emulator = Emulator::start(&["--quiet", "--fixture", path.to_str().unwrap()]);
    let token = emulator.device_login().access_token;
    let expected: Vec<(String, String)> = fixture["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["accountId"].as_str().unwrap().to_owned(),
                a["accountName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed_names(&emulator, &token, 1), expected);
    let roles = emulator.portal_get("/assignment/roles?account_id=222222222222", &token).json();
    assert_eq!(roles, serde_json::json!({"nextToken": null, "roleList": []}));
}

#[test]
fn five_thousand_accounts_page_quickly_at_100_a_page() {
    let emulator = Emulator::start(&["--quiet", "--accounts", "5000", "--roles-per-account", "3"]);
    let token = emulator.device_login().access_token;
    let started = std::time::Instant::now();
    let accounts = listed_names(&emulator, &token, 100);
    let elapsed = started.elapsed();
    assert_eq!(accounts.len(), 5000);
    assert_eq!(accounts[4999], ("100000005000".to_owned(), "account-5000".to_owned()));
    assert_eq!(emulator.stats().requests, 50);
    // 50 pages over loopback; quadratic paging would show here.
    assert!(elapsed < std::time::Duration::from_secs(3), "{elapsed:?}");
    let roles = emulator.portal_get("/assignment/roles?account_id=100000005000", &token).json();
    assert_eq!(roles["roleList"].as_array().map(Vec::len), Some(3), "{roles}");
}

#[test]
fn rate_limit_20_is_a_bucket_of_20_refilled_at_20_per_second() {
    let emulator = Emulator::start(&["--quiet", "--rate-limit", "20"]);
    let token = emulator.device_login().access_token;
    let first: Vec<u16> = list_statuses(&emulator, &token, 21);
    assert_eq!(first[..20], [200; 20], "a full bucket serves a burst of 20");
    let mut served = 20 + first[20..].iter().filter(|status| **status == 200).count();
    served += served_until_throttled(&emulator, &token).0;
    // The emulator's clock is moved instead of waited for: half a second refills 10, a whole
    // one 20, and five no more than the bucket holds. The real time the requests take refills
    // a little more, at most 20 a second (and one for what was left of a token).
    for (step_ms, refill) in [(500, 10), (1000, 20), (5000, 20)] {
        emulator.advance_clock(step_ms);
        let (count, elapsed) = served_until_throttled(&emulator, &token);
        let bound = refill as f64 + 20.0 * elapsed + 1.0;
        assert!(count >= refill, "{count} served after {step_ms} ms (expected {refill})");
        assert!(count as f64 <= bound, "{count} served after {step_ms} ms (bound {bound:.1})");
        served += count;
    }
    let stats = emulator.stats();
    assert_eq!(stats.requests - stats.throttled, served as u64, "{stats:?}");
    // Each token has its own bucket.
    let other = emulator.device_login().access_token;
    assert_eq!(list_statuses(&emulator, &other, 20), [200; 20]);
}

/// Lists accounts until the emulator answers 429 (at most 100 times): how many were served, and
/// the real time that took, in seconds.
fn served_until_throttled(emulator: &Emulator, token: &str) -> (usize, f64) {
    let started = std::time::Instant::now();
    let mut served = 0;
    for _ in 0..100 {
        match emulator.portal_get("/assignment/accounts", token).status {
            200 => served += 1,
            429 => return (served, started.elapsed().as_secs_f64()),
            status => panic!("ListAccounts answered {status}"),
        }
    }
    panic!("100 requests in a row were served: no rate limit");
}

#[test]
fn the_clock_starts_off_by_its_flag_and_moves_on_request() {
    let emulator = Emulator::start(&["--quiet", "--clock-offset-ms", "-5000", "--token-ttl", "60"]);
    let clock = |args: &[&str]| {
        Command::new(aws_sso_tests::emulator::workspace_bin("aws-sso-emulator"))
            .arg("clock")
            .arg(&emulator.url)
            .args(args)
            .output()
            .expect("run aws-sso-emulator clock")
    };
    let offset = |out: &std::process::Output| -> i64 {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        answer["offsetMs"].as_i64().expect("offsetMs")
    };
    assert_eq!(offset(&clock(&[])), -5000);

    // Credentials expire by the emulator's clock (in whole seconds): 5 s before the real clock
    // would say.
    let login = emulator.device_login();
    let before = jiff::Timestamp::now().as_millisecond();
    let target = "/federation/credentials?account_id=100000000001&role_name=AdministratorAccess";
    let credentials = emulator.portal_get(target, &login.access_token).json();
    let expiration = credentials["roleCredentials"]["expiration"].as_i64().expect("expiration");
    let lifetime = expiration - before;
    assert!((3_594_000..=3_596_000).contains(&lifetime), "{lifetime}");

    // Moved past the token's minute, the token is refused; moved back, it works again.
    assert_eq!(offset(&clock(&["66000"])), 61_000);
    assert_eq!(emulator.portal_get("/assignment/accounts", &login.access_token).status, 401);
    assert_eq!(emulator.advance_clock(-61_000), 0);
    assert_eq!(emulator.portal_get("/assignment/accounts", &login.access_token).status, 200);

    let wrong = clock(&["soon"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("`soon` is not a number of ms"));
}
