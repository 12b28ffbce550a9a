//! The emulator as an offline IAM Identity Center for any client: the stand-in browser against
//! loopback callbacks that behave as real clients do, and `eval "$(aws-sso-emulator env …)"`
//! giving a setup in which botocore (the AWS CLI's library) and our own tools log in.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sso_tests::emulator::{Emulator, workspace_bin};
use aws_sso_tests::python::python_with_botocore;
use aws_sso_tests::shells;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

/// The code verifier and challenge of RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "state-1234";

fn emulator_bin() -> PathBuf {
    workspace_bin("aws-sso-emulator")
}

/// `aws-sso-emulator browse URL`, bounded.
fn browse(url: &str) -> Output {
    let mut cmd = assert_cmd::Command::new(emulator_bin());
    cmd.args(["browse", url]).timeout(Duration::from_secs(60));
    cmd.output().expect("run browse")
}

/// A client registered for the authorization code flow, and the `/authorize` URL that sends
/// the browser to `callback_port`.
struct PkceClient {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    authorize_url: String,
}

fn pkce_client(emulator: &Emulator, callback_port: u16) -> PkceClient {
    let registration = emulator
        .send(
            "POST",
            "/client/register",
            &[],
            r#"{"clientName":"offline-test","clientType":"public","scopes":["sso:account:access"],
               "grantTypes":["authorization_code","refresh_token"],
               "redirectUris":["http://127.0.0.1/oauth/callback"],
               "issuerUrl":"https://d-1234567890.awsapps.com/start"}"#,
        )
        .json();
    let text = |name: &str| registration[name].as_str().expect(name).to_owned();
    let redirect_uri = format!("http://127.0.0.1:{callback_port}/oauth/callback");
    let authorize_url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={STATE}\
         &code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge={CHALLENGE}",
        emulator.url,
        text("clientId"),
        redirect_uri.replace(':', "%3A").replace('/', "%2F"),
    );
    PkceClient {
        client_id: text("clientId"),
        client_secret: text("clientSecret"),
        redirect_uri,
        authorize_url,
    }
}

/// The code in the request line the callback got, after checking its path and state.
fn code_in(request_line: &str) -> String {
    let target = request_line.split(' ').nth(1).unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    assert_eq!(path, "/oauth/callback", "{request_line}");
    let param = |name: &str| {
        query.split('&').find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
    };
    assert_eq!(param("state").as_deref(), Some(STATE), "{request_line}");
    param("code").unwrap_or_else(|| panic!("no code in {request_line}"))
}

/// Trades the code for a token, as the client does once its callback got it: the login completes.
fn complete_login(emulator: &Emulator, client: &PkceClient, code: &str) {
    let body =
        serde_json::json!({"clientId": client.client_id, "clientSecret": client.client_secret,
        "grantType": "authorization_code", "code": code, "redirectUri": client.redirect_uri,
        "codeVerifier": VERIFIER})
        .to_string();
    let token = emulator.send("POST", "/token", &[], &body);
    assert_eq!(token.status, 200, "{}", token.body);
    assert!(token.json()["accessToken"].is_string(), "a token: {}", token.head);
}

/// Reads a request head, byte by byte so nothing past it is consumed; returns its first line.
fn read_request_line(stream: &mut TcpStream, whole_head: bool) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut head = Vec::new();
    let end: &[u8] = if whole_head { b"\r\n\r\n" } else { b"\r\n" };
    let mut byte = [0u8; 1];
    while !head.ends_with(end) {
        assert_eq!(stream.read(&mut byte).expect("read the request"), 1, "request cut short");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned()
}

/// The page a client's callback answers with: big enough that it cannot sit in a socket buffer
/// unread, so a browser that does not read it blocks the writer or breaks its pipe.
fn callback_page() -> Vec<u8> {
    let body = "<p>You can close this window.</p>".repeat(20_000);
    format!("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n{body}").into_bytes()
}

/// What a callback that answers after reading the request saw: its request line, whether its
/// whole answer could be written, and whether the browser then closed the connection in good
/// order (an end of stream, not a reset).
struct Served {
    request_line: String,
    wrote_answer: bool,
    closed_cleanly: bool,
}

fn read_then_answer(listener: &TcpListener) -> Served {
    let (mut stream, _) = listener.accept().expect("accept");
    let request_line = read_request_line(&mut stream, true);
    let wrote_answer = stream.write_all(&callback_page()).is_ok();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut rest = Vec::new();
    let closed_cleanly = stream.read_to_end(&mut rest).is_ok();
    Served { request_line, wrote_answer, closed_cleanly }
}

#[test]
fn browse_completes_a_pkce_login_with_a_callback_that_reads_then_answers() {
    let emulator = Emulator::start(&["--quiet"]);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = pkce_client(&emulator, listener.local_addr().expect("addr").port());
    let server = std::thread::spawn(move || read_then_answer(&listener));

    let out = browse(&client.authorize_url);
    assert!(out.status.success(), "browse: {}", stderr(&out));
    let served = server.join().expect("the callback server");
    assert!(served.wrote_answer, "the browser read the whole answer");
    assert!(served.closed_cleanly, "and then closed in good order");
    complete_login(&emulator, &client, &code_in(&served.request_line));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn browse_completes_a_pkce_login_with_a_client_that_serves_its_callback_after_its_browser_exits() {
    // As Python's webbrowser (and so the AWS CLI) does: run the browser command, wait for it to
    // exit, and only then handle the request waiting on the callback's port.
    let emulator = Emulator::start(&["--quiet"]);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = pkce_client(&emulator, listener.local_addr().expect("addr").port());
    let (browser_exited, exited) = mpsc::channel();
    let server = std::thread::spawn(move || {
        exited.recv().expect("the browser exits first");
        read_then_answer(&listener)
    });

    let start = Instant::now();
    let out = browse(&client.authorize_url);
    let took = start.elapsed();
    browser_exited.send(()).expect("tell the server");
    assert!(out.status.success(), "browse: {}", stderr(&out));
    assert!(took < Duration::from_secs(10), "browse returned while the client waited: {took:?}");
    assert!(stderr(&out).contains("read in the background"), "says so: {}", stderr(&out));
    let served = server.join().expect("the callback server");
    assert!(served.wrote_answer, "the answer was read, no broken pipe");
    assert!(served.closed_cleanly, "and the reader closed in good order");
    complete_login(&emulator, &client, &code_in(&served.request_line));
}

#[test]
fn browse_completes_a_pkce_login_with_a_callback_that_closes_early() {
    let emulator = Emulator::start(&["--quiet"]);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = pkce_client(&emulator, listener.local_addr().expect("addr").port());
    // Reads the request line only, then hangs up with the rest unread and no answer.
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        read_request_line(&mut stream, false)
    });

    let out = browse(&client.authorize_url);
    let request_line = server.join().expect("the callback server");
    assert!(out.status.success(), "the callback had the request: {}", stderr(&out));
    assert!(stderr(&out).contains("without an answer"), "says so: {}", stderr(&out));
    complete_login(&emulator, &client, &code_in(&request_line));
}

#[test]
fn browse_approves_a_device_code_and_fails_clearly_when_nothing_is_approved() {
    let emulator = Emulator::start(&["--quiet", "--device-approval", "never"]);
    let registration = emulator
        .send("POST", "/client/register", &[], r#"{"clientName":"t","clientType":"public"}"#)
        .json();
    let start = emulator
        .send(
            "POST",
            "/device_authorization",
            &[],
            &serde_json::json!({"clientId": registration["clientId"],
                "clientSecret": registration["clientSecret"], "startUrl": "https://x.awsapps.com/start"})
            .to_string(),
        )
        .json();
    let poll = serde_json::json!({"clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": start["deviceCode"]})
    .to_string();
    assert_eq!(emulator.send("POST", "/token", &[], &poll).status, 400, "pending until browsed");
    let out = browse(start["verificationUriComplete"].as_str().expect("verificationUriComplete"));
    assert!(out.status.success(), "approved: {}", stderr(&out));
    assert_eq!(emulator.send("POST", "/token", &[], &poll).status, 200, "the browse approved it");

    let refused = |url: &str, expected: &str| {
        let out = browse(url);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{url}: {}", stderr(&out));
    };
    refused(&format!("{}/device?user_code=NOPE-NOPE", emulator.url), "No pending authorization");
    refused(&format!("{}/start", emulator.url), "neither approved a device code");
    refused("https://example.com/", "only http:// URLs on this machine's loopback");
    refused("http://example.com/", "only loopback addresses");
    // A callback that refuses the request fails the browse too, saying who refused.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = pkce_client(&emulator, listener.local_addr().expect("addr").port());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        read_request_line(&mut stream, true);
        let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n<p>Foreign state.</p>");
    });
    refused(&client.authorize_url, "the client's callback answered 400");
    server.join().expect("the callback server");
    let out = browse(&client.authorize_url);
    assert!(!stderr(&out).contains("code="), "no code in messages: {}", stderr(&out));
}

/// Runs `script` in bash after `eval "$(aws-sso-emulator env --url URL)"`, in a HOME and TMPDIR of
/// its own, with nothing from the developer's AWS setup.
fn after_eval_env(emulator: &Emulator, home: &Path, script: &str) -> Output {
    let eval = format!(
        "set -e\neval \"$({} env --url {})\"\n{script}",
        shells::sh_quote(&emulator_bin().display().to_string()),
        shells::sh_quote(&emulator.url),
    );
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.arg("-c")
        .arg(eval)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TMPDIR", home)
        .env("NO_COLOR", "1")
        // What eval must take away, set as a developer's shell might have it.
        .env("AWS_ACCESS_KEY_ID", "AKIAOLDKEYFROMTHEUSER")
        .env("AWS_SECRET_ACCESS_KEY", "old-secret")
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .env("AWS_PROFILE", "someone-elses")
        .timeout(Duration::from_secs(120));
    cmd.output().expect("run bash")
}

/// botocore logs in with `flow` (device or pkce) after the eval, with nothing but the stand-in
/// browser to approve (`--device-approval never`), then lists and gets role credentials.
fn botocore_login_after_eval_env(python: &Path, flow: &str) {
    let emulator = Emulator::start(&["--quiet", "--device-approval", "never"]);
    let home = tempfile::tempdir().expect("HOME");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/offline_login.py");
    let out = after_eval_env(
        &emulator,
        home.path(),
        &format!(
            "exec {} {} {flow}",
            shells::sh_quote(&python.display().to_string()),
            shells::sh_quote(&script.display().to_string())
        ),
    );
    assert!(out.status.success(), "{flow}: {}\n{}", stderr(&out), stdout(&out));
    let result: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(
        result["accounts"],
        serde_json::json!(["100000000001", "100000000002", "100000000003"])
    );
    assert_eq!(result["roles"], serde_json::json!(["AdministratorAccess", "ReadOnlyAccess"]));
    assert_eq!(result["method"], "sso", "botocore's SSO provider gave the credentials: {result}");
    assert!(result["accessKeyId"].as_str().is_some_and(|k| k.starts_with("ASIA")), "{result}");
    assert_eq!(
        (&result["hasSecretKey"], &result["hasSessionToken"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    let operations = emulator.operations();
    for expected in
        ["RegisterClient", "CreateToken", "ListAccounts", "ListAccountRoles", "GetRoleCredentials"]
    {
        assert!(operations.iter().any(|o| o == expected), "{expected}: {operations:?}");
    }
    let opened = if flow == "device" { "DeviceVerification" } else { "Authorize" };
    assert!(operations.iter().any(|o| o == opened), "the browser opened it: {operations:?}");
}

#[test]
fn botocore_logs_in_with_the_device_flow_after_eval_env_in_bash() {
    if !shells::require("bash") {
        return;
    }
    let Some(python) = python_with_botocore() else { return };
    botocore_login_after_eval_env(&python, "device");
}

#[test]
fn an_aws_cli_style_pkce_login_completes_though_the_client_waits_for_its_browser() {
    if !shells::require("bash") {
        return;
    }
    let Some(python) = python_with_botocore() else { return };
    botocore_login_after_eval_env(&python, "pkce");
}

#[test]
fn our_tools_log_in_and_get_credentials_after_eval_env_in_bash() {
    if !shells::require("bash") {
        return;
    }
    let emulator = Emulator::start(&["--quiet"]);
    let home = tempfile::tempdir().expect("HOME");
    let bin = |name: &str| shells::sh_quote(&workspace_bin(name).display().to_string());
    let out = after_eval_env(
        &emulator,
        home.path(),
        &format!(
            "{} >&2\nexec {} credential-process 100000000001 AdministratorAccess",
            bin("aws-sso-login"),
            bin("aws-sso-env")
        ),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let credentials: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert_eq!(credentials["Version"], 1, "{credentials}");
    assert!(credentials["AccessKeyId"].as_str().is_some_and(|k| k.starts_with("ASIA")));
    assert!(emulator.operations().iter().any(|o| o == "Authorize"), "the browser flow ran");
}

#[test]
fn env_refuses_bad_input_and_writes_fresh_private_files() {
    use std::os::unix::fs::PermissionsExt as _;
    let emulator = Emulator::start(&["--quiet"]);
    let tmp = tempfile::tempdir().expect("TMPDIR");
    let env = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::new(emulator_bin());
        cmd.arg("env").args(args).env("TMPDIR", tmp.path()).timeout(Duration::from_secs(30));
        cmd.output().expect("run env")
    };
    let refused = |args: &[&str], expected: &str| {
        let out = env(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "nothing to eval: {}", stdout(&out));
    };
    refused(&[], "which emulator?");
    refused(&["--url", "https://example.com"], "give http://127.0.0.1:PORT");
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    refused(&["--url", &closed_url], "start it first");
    refused(&["--url", &emulator.url, "--role", "x\n[default]"], "not an IAM role name");
    refused(&["--url", &emulator.url, "--account", "12"], "12 digits");
    refused(&["--url", &emulator.url, "--region", "eu west"], "not an AWS region");
    refused(&["--url", &emulator.url, "--dir", "/tmp/a b"], "letters, digits and");
    let missing = tmp.path().join("no-url");
    let start = Instant::now();
    let out = env(&["--url-file", &missing.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("holds no URL"), "{}", stderr(&out));
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
    assert_eq!(std::fs::read_dir(tmp.path()).expect("list").count(), 0, "refused: nothing written");

    let first = env(&["--url", &emulator.url]);
    let second = env(&["--url", &emulator.url, "--shell", "fish"]);
    assert!(first.status.success() && second.status.success(), "{}", stderr(&first));
    let value = |out: &Output, name: &str| {
        stdout(out)
            .lines()
            .find_map(|line| {
                let rest = line
                    .strip_prefix(&format!("export {name}="))
                    .or_else(|| line.strip_prefix(&format!("set -gx {name} ")))?;
                Some(rest.trim_matches('\'').to_owned())
            })
            .unwrap_or_else(|| panic!("no {name} in {}", stdout(out)))
    };
    let (config, other) = (value(&first, "AWS_CONFIG_FILE"), value(&second, "AWS_CONFIG_FILE"));
    assert_ne!(config, other, "each run has its own files");
    let mode = |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    let config = PathBuf::from(config);
    assert!(config.starts_with(tmp.path()), "in TMPDIR: {}", config.display());
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(config.parent().expect("dir")), 0o700);
    let browser = PathBuf::from(value(&first, "BROWSER"));
    assert_eq!(mode(&browser), 0o700);
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(text.contains("[sso-session aws-sso-emulator]"), "{text}");
    assert!(text.contains("sso_start_url = https://d-0000000000.awsapps.com/start"), "{text}");
    assert_eq!(value(&first, "AWS_ENDPOINT_URL_SSO_OIDC"), emulator.url);
    assert_eq!(value(&first, "AWS_ENDPOINT_URL_STS"), emulator.url);
    assert!(stdout(&second).contains("set -e AWS_ACCESS_KEY_ID"), "{}", stdout(&second));

    // --url-file: the emulator publishes its URL there and takes it back when it stops.
    let url_file = tmp.path().join("emulator.url");
    let published = Emulator::start(&["--quiet", "--url-file", &url_file.display().to_string()]);
    let out = env(&["--url-file", &url_file.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(value(&out, "AWS_ENDPOINT_URL_SSO"), published.url);
}
