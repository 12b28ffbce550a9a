//! A hub role from IAM Identity Center and the roles assumed from it: profiles with `role_arn`
//! and `source_profile`, as the AWS CLI defines them, a project file's `assume_role`, and the
//! assume-role cache shared both ways with botocore (the AWS CLI's library). Every mistake in
//! such a chain ends in one line naming the profile, its file and the fix, with nothing cached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sso_tests::python::python_with_botocore;
use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox, sha1_hex};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

const SPOKE: &str = "arn:aws:iam::200000000002:role/Spoke";
const EDGE: &str = "arn:aws:iam::300000000003:role/Edge";

/// `dev` (the Identity Center role of [`ONE_SESSION`]) → `spoke` → `edge`.
fn two_hops() -> String {
    config(&format!(
        "[profile spoke]\nrole_arn = {SPOKE}\nsource_profile = dev\n\n\
         [profile edge]\nrole_arn = {EDGE}\nsource_profile = spoke\n"
    ))
}

/// Where botocore caches the role `arn` assumed without a configured session name, the key
/// computed here from its formula (`sha1(json.dumps({"RoleArn": arn}, sort_keys=True))`).
fn assume_role_cache(sandbox: &Sandbox, arn: &str) -> PathBuf {
    sandbox.cli_cache().join(format!("{}.json", sha1_hex(&format!("{{\"RoleArn\": \"{arn}\"}}"))))
}

fn cached_key_id(path: &Path) -> String {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let entry: Value = serde_json::from_str(&text).expect("JSON");
    entry["Credentials"]["AccessKeyId"].as_str().expect("a key id").to_owned()
}

fn count(operations: &[String], name: &str) -> usize {
    operations.iter().filter(|o| *o == name).count()
}

/// `NAME=value` lines of `env`, as a map.
fn env_vars(out: &std::process::Output) -> BTreeMap<String, String> {
    stdout(out)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// botocore resolving `profile` in the sandbox's HOME as the AWS CLI does, assume-role cache
/// in ~/.aws/cli/cache included; the emulator is every endpoint.
fn botocore(python: &Path, sandbox: &Sandbox, profile: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/chain.py");
    let out = Command::new(python)
        .arg(script)
        .args(["credentials", profile])
        .env_clear()
        .env("HOME", sandbox.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &sandbox.emulator.url)
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run python");
    assert!(out.status.success(), "botocore failed:\n{}{}", stdout(&out), stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON from the script")
}

/// [`ONE_SESSION`] (whose `dev` is the hub role), then `rest`.
fn config(rest: &str) -> String {
    format!("{ONE_SESSION}\n{rest}")
}

/// Runs `aws-sso-env ARGS` with `AWS_PROFILE` (when given) in the sandbox.
fn env_cmd(sandbox: &Sandbox, aws_profile: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = sandbox.cmd("aws-sso-env");
    if let Some(profile) = aws_profile {
        cmd.env("AWS_PROFILE", profile);
    }
    cmd.args(args).output().expect("run aws-sso-env")
}

/// Each mistake, through each way of naming the profile: the same one line, exit 2, nothing on
/// stdout, no request, nothing cached.
fn assert_refused(sandbox: &Sandbox, profile: &str, snapshot: &str) {
    let before = sandbox.emulator.operations().len();
    let runs = [
        env_cmd(sandbox, Some(profile), &["exec", "--", "env"]),
        env_cmd(sandbox, None, &["--profile", profile, "-f", "json"]),
        env_cmd(sandbox, None, &["credential-process", "--profile", profile]),
    ];
    let first = stderr(&runs[0]);
    for out in &runs {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
        assert!(stdout(out).is_empty(), "{}", stdout(out));
        assert_eq!(stderr(out).trim_end().lines().count(), 1, "{}", stderr(out));
        assert_eq!(stderr(out), first);
    }
    assert_eq!(sandbox.emulator.operations().len(), before, "no request");
    let cached = std::fs::read_dir(sandbox.cli_cache()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(cached, 0, "nothing cached");
    with_filters!(sandbox, { insta::assert_snapshot!(snapshot, first) });
}

#[test]
fn a_loop_of_source_profiles_is_refused_naming_every_profile() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config(
            "[profile a]\nrole_arn = arn:aws:iam::200000000002:role/A\nsource_profile = b\n\n\
             [profile b]\nrole_arn = arn:aws:iam::200000000002:role/B\nsource_profile = a\n",
        ),
    )
    .expect("write config");
    assert_refused(&sandbox, "a", "chain_loop");
}

#[test]
fn a_source_profile_that_does_not_exist_is_refused() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config("[profile spoke]\nrole_arn = arn:aws:iam::200000000002:role/Spoke\nsource_profile = devv\n"),
    )
    .expect("write config");
    assert_refused(&sandbox, "spoke", "chain_missing_source");
}

#[test]
fn a_role_arn_that_is_not_an_arn_is_refused() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config("[profile spoke]\nrole_arn = Spoke\nsource_profile = dev\n"),
    )
    .expect("write config");
    assert_refused(&sandbox, "spoke", "chain_not_an_arn");
}

#[test]
fn a_source_profile_without_credentials_is_refused() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config(
            "[profile plain]\nregion = eu-west-1\n\n\
             [profile spoke]\nrole_arn = arn:aws:iam::200000000002:role/Spoke\nsource_profile = plain\n",
        ),
    )
    .expect("write config");
    assert_refused(&sandbox, "spoke", "chain_source_without_credentials");
}

#[test]
fn exec_runs_the_command_as_the_last_role_of_a_two_hop_chain() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(sandbox.config_path(), two_hops()).expect("write config");
    sandbox.emulator.reset_log();

    let out = env_cmd(&sandbox, Some("edge"), &["exec", "--", "env"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vars = env_vars(&out);
    assert_eq!(vars["AWS_SSO_ACCOUNT_ID"], "300000000003");
    assert_eq!(vars["AWS_SSO_ROLE_NAME"], "Edge");
    assert_eq!(vars["AWS_REGION"], "eu-west-1", "the first region down the chain");
    // The credentials are the last hop's, as cached under botocore's key.
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], cached_key_id(&assume_role_cache(&sandbox, EDGE)));
    let operations = sandbox.emulator.operations();
    assert_eq!(count(&operations, "GetRoleCredentials"), 1, "{operations:?}");
    assert_eq!(count(&operations, "AssumeRole"), 2, "{operations:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for arn in [SPOKE, EDGE] {
            let meta = std::fs::metadata(assume_role_cache(&sandbox, arn)).expect("cached");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }

    // --profile, every format, and the cache answers: no request.
    sandbox.emulator.reset_log();
    let out = env_cmd(&sandbox, None, &["--profile", "edge", "-f", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["accessKeyId"], vars["AWS_ACCESS_KEY_ID"].as_str());
    assert_eq!(json["accountId"], "300000000003");
    assert!(sandbox.emulator.operations().is_empty(), "{:?}", sandbox.emulator.operations());

    // status shows the role assumed and the one it was assumed from.
    let out = env_cmd(&sandbox, Some("edge"), &["status", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["accountId"], "300000000003");
    assert_eq!(status["roleName"], "Edge");
    assert_eq!(status["assumedFrom"], "ReadOnlyAccess in account 100000000001");
    assert_eq!(status["source"], "profile edge");
    assert!(status["cachedCredentialsExpireAt"].is_string(), "{status}");
}

#[test]
fn forty_parallel_credential_processes_make_one_assume_role() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(sandbox.config_path(), two_hops()).expect("write config");
    sandbox.emulator.reset_log();
    let children: Vec<_> = (0..40)
        .map(|_| {
            sandbox
                .std_cmd("aws-sso-env")
                .args(["credential-process", "--profile", "spoke"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut keys = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", stderr(&out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json["Version"], 1);
        keys.insert(json["AccessKeyId"].as_str().expect("key").to_owned());
    }
    assert_eq!(keys.len(), 1, "{keys:?}");
    let operations = sandbox.emulator.operations();
    assert_eq!(count(&operations, "AssumeRole"), 1, "{operations:?}");
    assert_eq!(count(&operations, "GetRoleCredentials"), 1, "{operations:?}");
}

#[test]
fn botocore_uses_a_chained_credential_process_and_reuses_our_cache() {
    let Some(python) = python_with_botocore() else { return };
    let sandbox = Sandbox::logged_in(&[]);
    let process = format!(
        "[profile via-process]\ncredential_process = {} credential-process --profile edge\n",
        sandbox.bin_dir.join("aws-sso-env").display()
    );
    std::fs::write(sandbox.config_path(), format!("{}\n{process}", two_hops())).expect("config");
    sandbox.emulator.reset_log();

    let creds = botocore(&python, &sandbox, "via-process");
    assert_eq!(creds["method"], "custom-process");
    assert_eq!(creds["accessKeyId"], cached_key_id(&assume_role_cache(&sandbox, EDGE)));
    assert_eq!(count(&sandbox.emulator.operations(), "AssumeRole"), 2);

    // botocore walking the chain itself finds what we cached: no AssumeRole, no portal call.
    sandbox.emulator.reset_log();
    let creds = botocore(&python, &sandbox, "edge");
    assert_eq!(creds["method"], "assume-role");
    assert_eq!(creds["accessKeyId"], cached_key_id(&assume_role_cache(&sandbox, EDGE)));
    assert!(sandbox.emulator.operations().is_empty(), "{:?}", sandbox.emulator.operations());
}

#[test]
fn we_reuse_the_roles_botocore_assumed() {
    let Some(python) = python_with_botocore() else { return };
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(sandbox.config_path(), two_hops()).expect("write config");
    sandbox.emulator.reset_log();

    let creds = botocore(&python, &sandbox, "spoke");
    assert_eq!(creds["method"], "assume-role");
    assert_eq!(count(&sandbox.emulator.operations(), "AssumeRole"), 1);
    let written = cached_key_id(&assume_role_cache(&sandbox, SPOKE));
    assert_eq!(creds["accessKeyId"], written.as_str());

    sandbox.emulator.reset_log();
    let out = env_cmd(&sandbox, None, &["credential-process", "--profile", "spoke"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["AccessKeyId"], written.as_str());
    assert!(sandbox.emulator.operations().is_empty(), "{:?}", sandbox.emulator.operations());
}

#[test]
fn the_hook_assumes_the_role_a_project_file_names() {
    let sandbox = Sandbox::logged_in(&[]);
    let project = sandbox.path().join("deploy");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::write(
        project.join(".aws-sso.yaml"),
        format!("account: \"100000000001\"\nrole: ReadOnlyAccess\nassume_role: {SPOKE}\nsession_name: alice\n"),
    )
    .expect("write");
    let allow =
        sandbox.cmd("aws-sso-env").arg("allow").current_dir(&project).output().expect("run");
    assert!(allow.status.success(), "{}", stderr(&allow));
    sandbox.emulator.reset_log();

    let out = sandbox.hook_in(&project);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = stdout(&out);
    // botocore's key holds the configured session name.
    let key = sha1_hex(&format!("{{\"RoleArn\": \"{SPOKE}\", \"RoleSessionName\": \"alice\"}}"));
    let cached = cached_key_id(&sandbox.cli_cache().join(format!("{key}.json")));
    // The script holds secrets: only whether it holds these is shown.
    assert!(script.contains(&format!("AWS_ACCESS_KEY_ID='{cached}'")), "not the cached key");
    assert!(script.contains("AWS_SSO_ACCOUNT_ID='200000000002'"), "not the assumed account");
    let requests = sandbox.emulator.requests();
    let assume: Vec<&Value> = requests.iter().filter(|r| r["operation"] == "AssumeRole").collect();
    assert_eq!(assume.len(), 1, "{requests:?}");

    // exec in the project: the same role, from the cache.
    sandbox.emulator.reset_log();
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "--", "env"])
        .current_dir(&project)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env_vars(&out)["AWS_ACCESS_KEY_ID"], cached);
    assert!(sandbox.emulator.operations().is_empty());
}

#[test]
fn assume_role_on_the_command_line_assumes_from_the_role_named() {
    let sandbox = Sandbox::logged_in(&[]);
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--assume-role", SPOKE, "--", "env"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let vars = env_vars(&out);
    assert_eq!(vars["AWS_SSO_ACCOUNT_ID"], "200000000002");
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], cached_key_id(&assume_role_cache(&sandbox, SPOKE)));

    let out = sandbox
        .cmd("aws-sso-env")
        .args(["100000000001", "ReadOnlyAccess", "--assume-role", "Spoke"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a role ARN"), "{}", stderr(&out));
}

#[test]
fn a_refused_assume_role_names_the_profile_and_caches_nothing() {
    let sandbox = Sandbox::logged_in(&["--deny-assume-role", SPOKE]);
    std::fs::write(sandbox.config_path(), two_hops()).expect("write config");
    for args in [&["exec", "--", "env"][..], &["credential-process"][..], &[][..]] {
        let out = env_cmd(&sandbox, Some("edge"), args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
        assert_eq!(stderr(&out).trim_end().lines().count(), 1, "{}", stderr(&out));
        if args.is_empty() {
            with_filters!(sandbox, { insta::assert_snapshot!("chain_denied", stderr(&out)) });
        }
    }
    for arn in [SPOKE, EDGE] {
        assert!(!assume_role_cache(&sandbox, arn).exists(), "nothing cached for {arn}");
    }
}

#[test]
fn a_chain_whose_root_is_not_logged_in_says_which_login() {
    let sandbox = Sandbox::new(&two_hops(), &[]);
    let out = env_cmd(&sandbox, None, &["credential-process", "--profile", "edge"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim_end().lines().count(), 1, "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("chain_not_logged_in", stderr(&out)) });
    assert!(sandbox.emulator.operations().iter().all(|o| o != "AssumeRole"));
}

#[test]
fn exec_server_renews_the_whole_chain_before_it_expires() {
    let Some(python) = python_with_botocore() else { return };
    // Every credential lasts 15 minutes by a clock 14 min 52 s behind: 8 s here. STS accepts the
    // signatures, 8 s inside its 15-minute skew.
    let sandbox = Sandbox::logged_in(&["--credentials-ttl", "900", "--clock-offset-ms", "-892000"]);
    std::fs::write(
        sandbox.config_path(),
        config(&format!(
            "[profile spoke]\nrole_arn = {SPOKE}\nsource_profile = dev\nduration_seconds = 900\n"
        )),
    )
    .expect("write config");
    sandbox.emulator.reset_log();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/long_run.py");
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "--server", "--profile", "spoke", "--"])
        .arg(python)
        .arg(script)
        .args(["10", "0.2"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["method"], "container-role", "{report}");
    assert_eq!(report["error"], Value::Null, "{report}");
    let keys = report["keys"].as_array().expect("keys");
    assert!(keys.len() >= 2, "the assumed role's key changes across expiries: {report}");
    let operations = sandbox.emulator.operations();
    // Each renewal goes back to the root: GetRoleCredentials, then AssumeRole.
    assert!(count(&operations, "AssumeRole") >= 2, "{operations:?}");
    assert!(count(&operations, "GetRoleCredentials") >= 2, "{operations:?}");
}

#[test]
fn the_console_signs_in_as_the_assumed_role() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(sandbox.config_path(), two_hops()).expect("write config");
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["console", "--profile", "spoke", "--print"])
        .env("AWS_SSO_FEDERATION_ENDPOINT", &sandbox.emulator.url)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out);
    let target = link.trim().strip_prefix(&sandbox.emulator.url).expect("a link to the emulator");
    let reply = sandbox.emulator.send("GET", target, &[], "");
    assert_eq!(reply.status, 302, "{}", reply.head);
    let operations = sandbox.emulator.operations();
    assert_eq!(count(&operations, "AssumeRole"), 1, "{operations:?}");
    // The federation endpoint took the assumed role's credentials (it knows those it issued).
    assert!(count(&operations, "Federation") >= 1, "{operations:?}");
}
