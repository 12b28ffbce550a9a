//! The emulator against botocore: a client nobody here wrote must find it faithful to AWS.

use std::path::Path;
use std::process::Command;

use aws_sso_tests::emulator::Emulator;
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
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ok ")).count(), 13, "{stdout}");

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
    let token = device_login(&emulator);
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
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}:\n{help}");
    }
}

/// A device-code login by hand (approved on the second poll); returns the access token.
fn device_login(emulator: &Emulator) -> String {
    let register = body_of(&raw_request(
        emulator,
        "POST",
        "/client/register",
        &[],
        r#"{"clientName":"t","clientType":"public"}"#,
    ));
    let start = body_of(&raw_request(
        emulator,
        "POST",
        "/device_authorization",
        &[],
        &serde_json::json!({"clientId": register["clientId"], "clientSecret": register["clientSecret"],
            "startUrl": "https://d-1234567890.awsapps.com/start"})
        .to_string(),
    ));
    let poll = serde_json::json!({"clientId": register["clientId"], "clientSecret": register["clientSecret"],
        "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": start["deviceCode"]})
    .to_string();
    let pending = raw_request(emulator, "POST", "/token", &[], &poll);
    assert!(pending.starts_with("HTTP/1.1 400"), "{pending}");
    let token = body_of(&raw_request(emulator, "POST", "/token", &[], &poll));
    token["accessToken"].as_str().expect("an access token").to_owned()
}

fn body_of(answer: &str) -> serde_json::Value {
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

/// One HTTP/1.1 exchange, returned whole (status line, headers, body).
fn raw_request(
    emulator: &Emulator,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    use std::io::{Read as _, Write as _};
    let address = emulator.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the emulator");
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    answer
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
    let mut child = Command::new(aws_sso_tests::emulator::workspace_bin("aws-sso-emulator"))
        .arg("--quiet")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the emulator");
    let mut first_line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut first_line)
        .expect("read the URL");
    assert!(first_line.starts_with("http://127.0.0.1:"), "{first_line}");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(killed.expect("run kill").success());
    let status = child.wait().expect("wait for the emulator");
    assert!(status.success(), "{status}");
}
