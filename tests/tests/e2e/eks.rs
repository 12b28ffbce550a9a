//! `aws-sso-env eks-token`: the ExecCredential kubectl reads, a token the service would accept
//! (the emulator's STS checks its signature as EKS has STS check it), cached, and errors as the
//! exec-plugin contract wants them.

use aws_sso_tests::sandbox::Sandbox;
use aws_sso_tests::{stderr, stdout};
use base64::Engine as _;
use serde_json::Value;

fn eks_token(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.cmd("aws-sso-env").arg("eks-token").args(args).output().expect("run eks-token")
}

/// The presigned URL inside a token.
fn url_of(token: &str) -> String {
    let encoded = token.strip_prefix("k8s-aws-v1.").unwrap_or_else(|| panic!("prefix: {token}"));
    assert!(!encoded.contains('='), "unpadded base64url: {token}");
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn the_token_is_a_presigned_get_caller_identity_the_service_accepts() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let out = eks_token(&sandbox, &["--cluster", "demo", "100000000002", "ReadOnlyAccess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["kind"], "ExecCredential");
    assert_eq!(json["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(json["spec"], serde_json::json!({}));
    // 14 minutes from now, as the AWS CLI reports it, in whole seconds with a Z.
    let expires: jiff::Timestamp =
        json["status"]["expirationTimestamp"].as_str().expect("time").parse().expect("rfc 3339");
    let left = expires.duration_since(jiff::Timestamp::now()).as_secs();
    assert!((13 * 60..=14 * 60).contains(&left), "{left} s left");
    let token = json["status"]["token"].as_str().expect("token");
    let url = url_of(token);
    let (base, query) = url.split_once("/?").expect("a query");
    assert_eq!(base, sandbox.emulator.url, "the configured STS endpoint");
    for part in [
        "Action=GetCallerIdentity",
        "Version=2011-06-15",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Expires=60",
        "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
    ] {
        assert!(query.split('&').any(|p| p == part), "{part} in {query}");
    }
    // What EKS does with it: STS checks the signature, with the cluster's name as signed.
    let target = format!("/?{query}");
    let accepted = sandbox.emulator.send("GET", &target, &[("x-k8s-aws-id", "demo")], "");
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(accepted.body.contains("<Account>100000000002</Account>"), "{}", accepted.body);
    assert!(accepted.body.contains("ReadOnlyAccess"), "{}", accepted.body);
    // Another cluster's name does not match the signature.
    let other = sandbox.emulator.send("GET", &target, &[("x-k8s-aws-id", "prod")], "");
    assert_eq!(other.status, 403, "{}", other.body);
    assert!(other.body.contains("SignatureDoesNotMatch"), "{}", other.body);
}

#[test]
fn a_token_is_cached_until_a_minute_before_it_expires_and_kubectl_gets_the_version_it_asks() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let args = ["--cluster", "demo", "100000000001", "ReadOnlyAccess"];
    let first = eks_token(&sandbox, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    sandbox.emulator.reset_log();
    let again = eks_token(&sandbox, &args);
    assert_eq!(stdout(&again), stdout(&first), "the cached token");
    assert!(sandbox.emulator.operations().is_empty(), "{:?}", sandbox.emulator.operations());
    let token: Value = serde_json::from_slice(&first.stdout).expect("json");
    let files: Vec<_> = std::fs::read_dir(sandbox.path().join(".cache/aws-sso/eks"))
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&files[0]).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a token is a credential");
    }
    // Another cluster gets a token of its own.
    let other = eks_token(&sandbox, &["--cluster", "prod", "100000000001", "ReadOnlyAccess"]);
    let other: Value = serde_json::from_slice(&other.stdout).expect("json");
    assert_ne!(other["status"]["token"], token["status"]["token"]);
    // kubectl asks for v1 in KUBERNETES_EXEC_INFO.
    let v1 = sandbox
        .cmd("aws-sso-env")
        .arg("eks-token")
        .args(args)
        .env(
            "KUBERNETES_EXEC_INFO",
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
        )
        .output()
        .expect("run");
    let v1: Value = serde_json::from_slice(&v1.stdout).expect("json");
    assert_eq!(v1["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(v1["status"], token["status"], "the same cached token");
}

#[test]
fn errors_are_one_line_and_never_ask() {
    let sandbox = Sandbox::new(aws_sso_tests::sandbox::ONE_SESSION, &[]);
    let out = eks_token(&sandbox, &["--cluster", "demo", "100000000001", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("aws-sso-login"), "{}", stderr(&out));
    // At a terminal too: kubectl may run it from one, and it must not stop to ask.
    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.args(["eks-token", "--cluster", "demo", "100000000001", "ReadOnlyAccess"]);
    let done = aws_sso_tests::terminal::Terminal::start(cmd, true).finish();
    assert_eq!(done.status.code(), Some(3), "{}", done.screen);
    assert!(!done.screen.contains("[Y/n]"), "{}", done.screen);
    // No cluster named: clap's usage error.
    let out = eks_token(&sandbox, &["100000000001", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--cluster"), "{}", stderr(&out));
}

#[test]
fn a_chained_profile_gives_a_token_of_the_last_role() {
    let config = format!(
        "{}\n[profile spoke]\nrole_arn = arn:aws:iam::200000000002:role/Spoke\nsource_profile = dev\n",
        aws_sso_tests::sandbox::ONE_SESSION
    );
    let sandbox = Sandbox::new(&config, &[]);
    let login = sandbox.cmd("aws-sso-login").output().expect("login");
    assert!(login.status.success(), "{}", stderr(&login));
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["eks-token", "--cluster", "demo"])
        .env("AWS_PROFILE", "spoke")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let url = url_of(json["status"]["token"].as_str().expect("token"));
    let (_, query) = url.split_once("/?").expect("a query");
    let answer =
        sandbox.emulator.send("GET", &format!("/?{query}"), &[("x-k8s-aws-id", "demo")], "");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("assumed-role/Spoke/"), "{}", answer.body);
    assert!(answer.body.contains("<Account>200000000002</Account>"), "{}", answer.body);
}
