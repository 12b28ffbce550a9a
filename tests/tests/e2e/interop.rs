//! Both directions of the cache contract with botocore, the AWS CLI's library: it uses the login
//! we wrote, and we use the token it refreshed.

use std::path::Path;
use std::process::Command;

use aws_sso_tests::python::python_with_botocore;
use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use serde_json::Value;

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/interop.py")
}

/// botocore in the sandbox's HOME, with only the endpoint variables given.
fn botocore(python: &Path, sandbox: &Sandbox, args: &[&str], endpoints: &[(&str, &str)]) -> Value {
    let mut cmd = Command::new(python);
    cmd.arg(script())
        .args(args)
        .env_clear()
        .env("HOME", sandbox.path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in endpoints {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run python");
    assert!(
        out.status.success(),
        "botocore failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json from the script")
}

#[test]
fn botocore_gets_role_credentials_with_our_login() {
    let Some(python) = python_with_botocore() else { return };
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let login = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let before = sandbox.emulator.operations();

    let creds = botocore(
        &python,
        &sandbox,
        &["credentials", "dev"],
        &[("AWS_ENDPOINT_URL_SSO", &sandbox.emulator.url)],
    );
    assert_eq!(creds["method"], "sso");
    assert!(creds["accessKeyId"].as_str().is_some_and(|k| k.starts_with("ASIA")), "{creds}");
    assert_eq!(creds["hasSecretKey"], true);
    assert_eq!(creds["hasSessionToken"], true);

    let after = sandbox.emulator.operations();
    let new: Vec<&String> = after.iter().skip(before.len()).collect();
    assert_eq!(new, ["GetRoleCredentials"], "no second login, no refresh: {new:?}");
}

#[test]
fn we_read_the_token_botocore_refreshed() {
    let Some(python) = python_with_botocore() else { return };
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let login = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));

    // Make the token stale, so botocore must refresh it (it does below 15 minutes).
    let path = sandbox.token_path("corp");
    let mut token: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let stale_access = token["accessToken"].clone();
    token["expiresAt"] = Value::from("2020-01-01T00:00:00Z");
    std::fs::write(&path, serde_json::to_string(&token).expect("json")).expect("write");

    let refreshed = botocore(
        &python,
        &sandbox,
        &["refresh", "dev"],
        &[("AWS_ENDPOINT_URL_SSO_OIDC", &sandbox.emulator.url)],
    );
    assert!(refreshed["expiration"].as_str().is_some_and(|e| e > "2026"), "{refreshed}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_ne!(written["accessToken"], stale_access, "botocore wrote a new token");

    let status =
        sandbox.cmd("aws-sso-login").args(["status", "--output", "json"]).output().expect("run");
    assert!(status.status.success());
    let status: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(status[0]["state"], "valid", "{status}");
    assert_eq!(status[0]["expiresAt"], written["expiresAt"]);

    // And the login command sees nothing to do.
    let again = sandbox.cmd("aws-sso-login").output().expect("run");
    assert!(String::from_utf8_lossy(&again.stderr).starts_with("Already logged in to corp;"));
}
