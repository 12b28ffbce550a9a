//! `aws-sso-env exec --server`: a credentials endpoint that lives as long as its command, answers
//! only the token it handed out, keeps botocore supplied across several credential expiries, and
//! says when the session needs a login.
#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sso_tests::python::python_with_botocore;
use aws_sso_tests::sandbox::Sandbox;
use aws_sso_tests::stderr;
use serde_json::Value;

const ACCOUNT: &str = "100000000001";
const ROLE: &str = "ReadOnlyAccess";

fn role_calls(sandbox: &Sandbox) -> usize {
    sandbox.emulator.operations().iter().filter(|o| *o == "GetRoleCredentials").count()
}

/// A child that writes what it was given to `endpoint` (URI and token), its environment to
/// `env.txt`, then waits for the test to create `done` and exits with `code`.
fn waiting_child(dir: &Path, code: u8) -> String {
    format!(
        "env > '{dir}/env.txt'; \
         echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI $AWS_CONTAINER_AUTHORIZATION_TOKEN\" > '{dir}/endpoint.part'; \
         mv '{dir}/endpoint.part' '{dir}/endpoint'; \
         while [ ! -e '{dir}/done' ]; do sleep 0.05; done; exit {code}",
        dir = dir.display()
    )
}

fn spawn_server(sandbox: &Sandbox, script: &str) -> Child {
    sandbox
        .std_cmd("aws-sso-env")
        .args(["exec", "--server", ACCOUNT, ROLE, "--", "sh", "-c", script])
        .env("AWS_ACCESS_KEY_ID", "AKIAUSERSOWN")
        .env("AWS_SECRET_ACCESS_KEY", "users-own-secret")
        .env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/other")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aws-sso-env")
}

/// The endpoint's port and token, once the child has written them.
fn endpoint(dir: &Path, server: &mut Child) -> (u16, String) {
    let file = dir.join("endpoint");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        if let Some(status) = server.try_wait().expect("try_wait") {
            panic!("aws-sso-env exited early: {status:?}");
        }
        assert!(Instant::now() < deadline, "the child never wrote its endpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(file).expect("read endpoint");
    let (uri, token) = text.trim().split_once(' ').expect("uri and token");
    let rest = uri.strip_prefix("http://127.0.0.1:").expect("a loopback URI");
    let (port, path) = rest.split_once('/').expect("a path");
    assert_eq!(path, "credentials");
    (port.parse().expect("port"), token.to_owned())
}

/// One raw HTTP/1.1 GET, as an SDK sends it: the status and the body.
fn get(port: u16, authorization: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    write!(stream, "GET /credentials HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n")
        .expect("send");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    let (head, body) = reply.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).expect("status").parse().expect("status code");
    (status, body.to_owned())
}

fn finish(dir: &Path, server: Child) -> Output {
    std::fs::write(dir.join("done"), "").expect("done");
    server.wait_with_output().expect("wait")
}

#[test]
fn the_endpoint_answers_only_its_token_and_is_gone_with_the_command() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let dir = sandbox.path().to_owned();
    let mut server = spawn_server(&sandbox, &waiting_child(&dir, 7));
    let (port, token) = endpoint(&dir, &mut server);
    assert_eq!(token.len(), 43, "32 random bytes in base64url");

    for wrong in [None, Some("not-the-token"), Some(&*format!("Bearer {token}"))] {
        let (status, body) = get(port, wrong);
        assert_eq!(status, 401, "{wrong:?}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(body.get("AccessKeyId").is_none() && body.get("Token").is_none(), "{body}");
    }

    let (status, body) = get(port, Some(&token));
    assert_eq!(status, 200, "{body}");
    let creds: Value = serde_json::from_str(&body).expect("json");
    assert!(creds["AccessKeyId"].as_str().is_some_and(|k| k.starts_with("ASIA")), "{creds}");
    assert!(creds["SecretAccessKey"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(creds["Token"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(creds["AccountId"], ACCOUNT);
    let expiration = creds["Expiration"].as_str().expect("Expiration");
    assert!(expiration.ends_with('Z'), "{expiration}");
    assert!(expiration.parse::<jiff::Timestamp>().is_ok(), "{expiration}");

    // No static keys: neither ours nor the ones the parent had.
    let env = std::fs::read_to_string(dir.join("env.txt")).expect("env");
    for name in ["AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="] {
        assert!(!env.lines().any(|l| l.starts_with(name)), "{name} in the child: {env}");
    }
    assert!(!env.contains("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), "{env}");
    assert!(env.lines().any(|l| l == format!("AWS_SSO_ACCOUNT_ID={ACCOUNT}")), "{env}");
    assert!(env.lines().any(|l| l == format!("AWS_SSO_EXEC={ACCOUNT}:{ROLE}")), "{env}");

    let out = finish(&dir, server);
    assert_eq!(out.status.code(), Some(7), "the child's code: {}", stderr(&out));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the port is still open");
}

#[test]
fn exit_codes_are_the_commands() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let run = |command: &[&str]| {
        sandbox
            .cmd("aws-sso-env")
            .args(["exec", "--server", ACCOUNT, ROLE, "--"])
            .args(command)
            .output()
            .expect("run")
    };
    let missing = run(&["no-such-command-anywhere"]);
    assert_eq!(missing.status.code(), Some(127), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("command not found"), "{}", stderr(&missing));

    let plain = sandbox.path().join("plain.txt");
    std::fs::write(&plain, "not a program").expect("write");
    let not_executable = run(&[plain.to_str().expect("utf-8")]);
    assert_eq!(not_executable.status.code(), Some(126), "{}", stderr(&not_executable));

    assert_eq!(run(&["true"]).status.code(), Some(0));
    assert_eq!(run(&["sh", "-c", "exit 7"]).status.code(), Some(7));
    // Killed by a signal: 128 + its number, as a shell reports it.
    assert_eq!(run(&["sh", "-c", "kill -KILL $$"]).status.code(), Some(128 + 9));
}

#[test]
fn signals_reach_the_command() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let dir = sandbox.path().to_owned();
    let script = format!(
        "trap 'exit 42' TERM; trap 'exit 43' HUP; touch '{}/ready'; while :; do sleep 0.05; done",
        dir.display()
    );
    for (signal, code) in [("TERM", 42), ("HUP", 43)] {
        let _ = std::fs::remove_file(dir.join("ready"));
        let server = spawn_server(&sandbox, &script);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !dir.join("ready").exists() {
            assert!(Instant::now() < deadline, "the child never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &server.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = server.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(code), "SIG{signal}: {}", stderr(&out));
    }
}

#[test]
fn a_session_that_cannot_be_refreshed_is_an_error_naming_aws_sso_login() {
    let sandbox = Sandbox::listed(&["--accounts", "2", "--credentials-ttl", "2"]);
    let dir = sandbox.path().to_owned();
    let mut server = spawn_server(&sandbox, &waiting_child(&dir, 0));
    let (port, token) = endpoint(&dir, &mut server);
    assert_eq!(get(port, Some(&token)).0, 200);

    let logout = sandbox.cmd("aws-sso-login").arg("logout").output().expect("logout");
    assert!(logout.status.success(), "logout: {}", stderr(&logout));
    // Credentials of 2 s are served from memory for a second at most, then due for renewal,
    // which the logout makes impossible.
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(port, Some(&token)).0 == 200 {
        assert!(Instant::now() < deadline, "the credentials of before the logout are still served");
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..3 {
        let (status, body) = get(port, Some(&token));
        assert_eq!(status, 500, "{body}");
        let body: Value = serde_json::from_str(&body).expect("json");
        let message = body["message"].as_str().expect("a message the SDK shows");
        assert!(message.contains("aws-sso-login"), "{message}");
    }

    let out = finish(&dir, server);
    assert_eq!(out.status.code(), Some(0));
    let text = stderr(&out);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("aws-sso-login")).collect();
    assert_eq!(lines.len(), 1, "one line, not one per request: {text}");
    assert!(lines[0].starts_with("aws-sso-env: "), "{text}");
    assert!(!text.contains(&token), "the endpoint token leaked: {text}");
}

fn long_run_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/long_run.py")
}

#[test]
fn botocore_keeps_working_across_credential_expiries() {
    let Some(python) = python_with_botocore() else { return };
    // Credentials of 4 s (whole seconds) from a clock 2 s behind last 1 to 2 s: renewed several
    // times in 5 s. The SSO token of 6 s is inside the client's refresh window from the start,
    // so it is renewed too.
    let sandbox = Sandbox::listed(&[
        "--accounts",
        "2",
        "--credentials-ttl",
        "4",
        "--clock-offset-ms",
        "-2000",
        "--token-ttl",
        "6",
    ]);
    sandbox.emulator.reset_log();
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "--server", ACCOUNT, ROLE, "--"])
        .arg(python)
        .arg(long_run_script())
        .args(["5", "0.1"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["method"], "container-role", "{report}");
    assert_eq!(report["error"], Value::Null, "{report}");
    assert!(report["reads"].as_u64().is_some_and(|n| n >= 30), "{report}");
    let keys = report["keys"].as_array().expect("keys");
    assert!(keys.len() >= 3, "the access key changes across expiries: {report}");
    assert!(role_calls(&sandbox) >= 3, "{:?}", sandbox.emulator.operations());
    let refreshes =
        sandbox.emulator.operations().iter().filter(|o| o.as_str() == "CreateToken").count();
    assert!(refreshes >= 1, "the SSO token was refreshed: {:?}", sandbox.emulator.operations());
    assert!(!stderr(&out).contains("aws-sso-login"), "{}", stderr(&out));
}
