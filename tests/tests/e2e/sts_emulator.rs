//! The emulator's STS, walked by botocore's STS client and signer: role chaining from the
//! portal's credentials, GetCallerIdentity by POST and by presigned GET, each refusal with the
//! service's code, and the injected faults a client's retries must get through.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sso_tests::emulator::{Emulator, RoleCredentials};
use aws_sso_tests::python::python_with_botocore;
use serde_json::Value;

const ACCOUNT: &str = "100000000001";
const DENIED: &str = "arn:aws:iam::210987654321:role/denied";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/sts_fidelity.py")
}

/// Logs in by hand and takes the portal's credentials for the first generated role.
fn portal_credentials(emulator: &Emulator) -> RoleCredentials {
    let login = emulator.device_login();
    emulator.role_credentials(&login.access_token, ACCOUNT, "AdministratorAccess")
}

/// Runs `sts_fidelity.py CHECK` against `emulator` starting from `source`; returns its summary.
fn run_script(
    python: &Path,
    emulator: &Emulator,
    source: &RoleCredentials,
    args: &[&str],
) -> Value {
    let output = Command::new(python)
        .arg(script())
        .args(args)
        .args(["--url", &emulator.url])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_PROXY", "127.0.0.1,localhost")
        // Nothing from the machine's own AWS setup may reach botocore.
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("SOURCE_ACCESS_KEY_ID", &source.access_key_id)
        .env("SOURCE_SECRET_ACCESS_KEY", &source.secret_access_key)
        .env("SOURCE_SESSION_TOKEN", &source.session_token)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "sts_fidelity.py {args:?} failed:\n{}{}\nthe emulator's log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        emulator.stderr()
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the script")
}

/// `(operation, status)` of each logged request to STS.
fn sts_log(emulator: &Emulator) -> Vec<(String, u64)> {
    emulator
        .requests()
        .iter()
        .filter(|request| request["path"] == "/")
        .map(|request| {
            (
                request["operation"].as_str().unwrap_or_default().to_owned(),
                request["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn botocore_walks_a_chain_of_roles_and_every_refusal() {
    let Some(python) = python_with_botocore() else { return };
    let emulator = Emulator::start(&["--deny-assume-role", DENIED]);
    let source = portal_credentials(&emulator);
    emulator.reset_log();

    let summary = run_script(
        &python,
        &emulator,
        &source,
        &["chain", "--account", ACCOUNT, "--deny-role", DENIED],
    );
    assert_eq!(summary["last"], "arn:aws:sts::210987654321:assumed-role/hop-two/second@hop");
    assert!(
        summary["source"].as_str().is_some_and(|arn| arn.starts_with(
            "arn:aws:sts::100000000001:assumed-role/AWSReservedSSO_AdministratorAccess_"
        )),
        "{summary}"
    );

    let log = sts_log(&emulator);
    let count = |operation: &str, status: u64| {
        log.iter().filter(|(op, st)| op == operation && *st == status).count()
    };
    // Two hops that succeed, then the refusals the script expects, one request each.
    assert_eq!(count("AssumeRole", 200), 2, "{log:?}");
    assert_eq!(
        count("AssumeRole", 400),
        4 + 1 + 1 + 1,
        "bad ARNs, a bad name, chaining, expired: {log:?}"
    );
    assert_eq!(count("AssumeRole", 403), 1, "the denied role: {log:?}");
    assert_eq!(count("GetCallerIdentity", 200), 5, "POST ×3, presigned GET, EKS GET: {log:?}");
    // Changed presigned URL and EKS header, wrong secret, unknown key, wrong and missing token,
    // a signature too far from the clock.
    assert_eq!(count("GetCallerIdentity", 403), 2 + 4 + 1, "{log:?}");
    assert_eq!(count("GetCallerIdentity", 400), 1, "expired: {log:?}");
    assert_eq!(log.len(), 2 + 7 + 1 + 5 + 7 + 1, "{log:?}");

    // The request log and stderr never hold a secret, whatever the requests carried.
    let logged = format!("{:?}\n{}", emulator.requests(), emulator.stderr());
    for secret in [&source.secret_access_key, &source.session_token] {
        assert!(!logged.contains(secret.as_str()), "a secret reached the log:\n{logged}");
    }
    assert!(!logged.contains("X-Amz-"), "a query reached the log:\n{logged}");
}

#[test]
fn botocore_retries_sts_throttling_failures_and_hangs() {
    let Some(python) = python_with_botocore() else { return };
    for (flags, statuses) in [
        (&["--sts-fault", "throttle", "--sts-fault-first", "2"][..], &[400u16, 400, 200][..]),
        (&["--sts-fault", "500", "--sts-fault-first", "1"][..], &[500, 200][..]),
        // The hung answer is logged as the service gave it; the client timed out before it came.
        (
            &["--sts-fault", "hang", "--sts-fault-first", "1", "--hang-ms", "6000"][..],
            &[200, 200][..],
        ),
    ] {
        let emulator = Emulator::start(flags);
        let source = portal_credentials(&emulator);
        emulator.reset_log();
        let summary = run_script(&python, &emulator, &source, &["retry"]);
        assert_eq!(summary["attempts"], statuses.len() - 1, "{flags:?}: {summary}");
        assert_eq!(emulator.statuses_of("GetCallerIdentity"), statuses, "{flags:?}");
        assert!(emulator.statuses_of("AssumeRole").is_empty(), "{flags:?}");
    }
}

#[test]
fn sts_refusals_are_xml_with_the_services_codes() {
    let emulator = Emulator::start(&[]);
    let unsigned = emulator.send("POST", "/?Action=GetCallerIdentity&Version=2011-06-15", &[], "");
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    assert!(
        unsigned.head.to_ascii_lowercase().contains("content-type: text/xml"),
        "{}",
        unsigned.head
    );
    assert!(
        unsigned.body.contains("<Code>MissingAuthenticationToken</Code>")
            && unsigned.body.contains("<Type>Sender</Type>"),
        "{}",
        unsigned.body
    );
    // The request id of the body is the one of the header.
    let request_id = unsigned
        .body
        .split_once("<RequestId>")
        .and_then(|(_, rest)| rest.split_once("</RequestId>"))
        .map(|(id, _)| id.to_owned())
        .expect("a RequestId");
    assert!(unsigned.head.contains(&request_id), "{}", unsigned.head);

    let forged = emulator.send(
        "POST",
        "/?Action=AssumeRole&Version=2011-06-15",
        &[
            ("X-Amz-Date", "20261207T020000Z"),
            ("X-Amz-Security-Token", "forged"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=ASIAFORGEDFORGEDXX/20261207/us-east-1/sts/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00",
            ),
        ],
        "",
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("<Code>InvalidClientTokenId</Code>"), "{}", forged.body);

    let unknown = emulator.send("GET", "/?Action=GetSessionToken&Version=2011-06-15", &[], "");
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(unknown.body.contains("<Code>InvalidAction</Code>"), "{}", unknown.body);

    let operations = emulator.operations();
    assert_eq!(operations, ["GetCallerIdentity", "AssumeRole", "Unknown"]);
}

#[test]
fn sts_faults_are_cleared_with_the_others() {
    let emulator = Emulator::start(&["--sts-fault", "throttle"]);
    let target = "/?Action=GetCallerIdentity&Version=2011-06-15";
    let throttled = emulator.send("POST", target, &[], "");
    assert_eq!(throttled.status, 400, "{}", throttled.body);
    assert!(throttled.body.contains("<Code>Throttling</Code>"), "{}", throttled.body);
    emulator.clear_faults();
    let answered = emulator.send("POST", target, &[], "");
    assert!(answered.body.contains("<Code>MissingAuthenticationToken</Code>"), "{}", answered.body);
}

#[test]
fn help_documents_the_sts_flags() {
    let output = Command::new(aws_sso_tests::emulator::workspace_bin("aws-sso-emulator"))
        .arg("--help")
        .output()
        .expect("run aws-sso-emulator --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--deny-assume-role", "--sts-fault", "--sts-fault-first", "AWS_ENDPOINT_URL_STS"] {
        assert!(help.contains(flag), "--help does not mention {flag}:\n{help}");
    }
}
