//! Mistakes people make: a typo in a profile name among many, a forgotten `--`, a wrong or
//! unknown key in config.yaml, a template placeholder that does not exist, a profile name that
//! is taken. Each ends in a short message that says what to type, or in a command that works
//! with a warning where breaking would break every SDK.

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

/// [`ONE_SESSION`], then 1,500 profiles of the session and one `acme-prod.ReadOnly`.
fn many_profiles() -> String {
    let mut text = ONE_SESSION.to_owned();
    for i in 0..1500 {
        text.push_str(&format!(
            "\n[profile team-{i:04}.ReadOnly]\nsso_session = corp\nsso_account_id = 100000000001\nsso_role_name = ReadOnlyAccess\n"
        ));
    }
    text.push_str("\n[profile acme-prod.ReadOnly]\nsso_session = corp\nsso_account_id = 100000000001\nsso_role_name = ReadOnlyAccess\n");
    text
}

#[test]
fn a_profile_typo_among_1500_profiles_gives_a_short_message_with_the_closest_name() {
    let sandbox = Sandbox::new(&many_profiles(), &[]);
    let out = sandbox
        .cmd("aws-sso-login")
        .args(["--profile", "acme-prd.ReadOnly"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).len() < 300, "{} characters: {}", stderr(&out).len(), stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("profile_typo_closest", stderr(&out)) });

    // Nothing close: ten names and a count, never the whole file.
    let out = sandbox.cmd("aws-sso-login").args(["--profile", "zzz"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).len() < 500, "{} characters: {}", stderr(&out).len(), stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("profile_typo_far", stderr(&out)) });
}

#[test]
fn aws_sso_env_with_a_profile_that_does_not_exist_says_so() {
    let sandbox = Sandbox::logged_in(&[]);
    let out =
        sandbox.cmd("aws-sso-env").args(["--profile", "acme-prod.ReadOnly"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("has no sso_account_id"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    with_filters!(sandbox, { insta::assert_snapshot!("env_unknown_profile", stderr(&out)) });

    let out = sandbox.cmd("aws-sso-env").args(["--profile", "devv"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("Did you mean dev?"), "{}", stderr(&out));
}

#[test]
fn exec_without_the_double_dash_prints_the_line_to_type() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "acme-staging", "Dev", "env"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    insta::assert_snapshot!("exec_forgotten_double_dash", stderr(&out));

    // Words a shell would split or expand come back quoted.
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "Acme Staging", "Dev", "sh", "-c", "echo $AWS_REGION; ls"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    insta::assert_snapshot!("exec_forgotten_double_dash_quoted", stderr(&out));
}

/// Writes an account cache and credentials for `dev` through `credential-process`.
fn credential_process(sandbox: &Sandbox) -> std::process::Output {
    sandbox
        .cmd("aws-sso-env")
        .args(["credential-process", "100000000001", "ReadOnlyAccess"])
        .output()
        .expect("run credential-process")
}

#[test]
fn an_unknown_key_in_config_yaml_is_a_warning_and_credential_process_still_works() {
    let sandbox = Sandbox::listed(&[]);
    sandbox.write_settings("concurrency: 4\nacount_cache_ttl: 1h\n");

    let out = credential_process(&sandbox);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert_eq!(json["Version"], 1);
    with_filters!(sandbox, { insta::assert_snapshot!("config_unknown_key", stderr(&out)) });

    // The other commands read the rest of the file, and warn the same way.
    let out = sandbox.cmd("aws-sso-ls").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("config.yaml:2: unknown key `acount_cache_ttl`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_value_in_config_yaml_stops_aws_sso_ls_but_only_warns_in_credential_process() {
    let sandbox = Sandbox::listed(&[]);
    sandbox.write_settings("# tuned for the VPN\naccount_cache_ttl: 12h\nconcurrency: many\n");

    let out = sandbox.cmd("aws-sso-ls").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    with_filters!(sandbox, { insta::assert_snapshot!("config_wrong_type_ls", stderr(&out)) });

    let out = credential_process(&sandbox);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert_eq!(json["Version"], 1);
    with_filters!(sandbox, {
        insta::assert_snapshot!("config_wrong_type_credential_process", stderr(&out))
    });
}

fn ls(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.cmd("aws-sso-ls").args(args).output().expect("run aws-sso-ls")
}

fn config(sandbox: &Sandbox) -> String {
    std::fs::read_to_string(sandbox.config_path()).expect("read the config")
}

#[test]
fn an_unknown_template_placeholder_is_refused_naming_the_valid_ones() {
    let sandbox = Sandbox::listed(&["--accounts", "2", "--roles-per-account", "1"]);
    let out = ls(&sandbox, &["--write-profiles", "--template", "{acount_name}-{account_id}"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    insta::assert_snapshot!("template_unknown_placeholder", stderr(&out));
    assert_eq!(config(&sandbox), ONE_SESSION, "nothing written");

    // From config.yaml, the message names the file and the line.
    sandbox.write_settings("profile_template: \"{acount}.{role}\"\n");
    let out = ls(&sandbox, &["--write-profiles"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    with_filters!(sandbox, {
        insta::assert_snapshot!("template_unknown_placeholder_config", stderr(&out))
    });
    assert_eq!(config(&sandbox), ONE_SESSION, "nothing written");

    // {session} is one.
    sandbox.write_settings("");
    let out = ls(&sandbox, &["--write-profiles", "--template", "{session}-{account_id}-{role}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        config(&sandbox).contains("[profile corp-100000000001-AdministratorAccess]"),
        "{}",
        config(&sandbox)
    );
}

/// The `region` of each `[profile NAME]` of the block whose name starts with `account-`.
fn written_regions(sandbox: &Sandbox) -> Vec<String> {
    let text = config(sandbox);
    let mut regions = Vec::new();
    let mut in_generated = false;
    for line in text.lines() {
        if line.starts_with("[profile ") {
            in_generated = line.starts_with("[profile account-");
        } else if in_generated && let Some(region) = line.strip_prefix("region = ") {
            regions.push(region.to_owned());
        }
    }
    regions
}

#[test]
fn write_profiles_region_comes_from_the_flag_then_config_yaml_then_the_sso_region() {
    let sandbox = Sandbox::listed(&["--accounts", "2", "--roles-per-account", "1"]);
    assert!(ls(&sandbox, &["--write-profiles"]).status.success());
    assert_eq!(written_regions(&sandbox), ["us-east-1", "us-east-1"], "the SSO region");

    sandbox.write_settings("profile_region: ap-south-1\n");
    let out = ls(&sandbox, &["--write-profiles"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 updated"), "{}", stderr(&out));
    assert_eq!(written_regions(&sandbox), ["ap-south-1", "ap-south-1"]);

    let out = ls(&sandbox, &["--write-profiles", "--region", "eu-central-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(written_regions(&sandbox), ["eu-central-1", "eu-central-1"]);

    let out = ls(&sandbox, &["--write-profiles", "--region", "Frankfurt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    insta::assert_snapshot!("write_profiles_bad_region", stderr(&out));
    assert_eq!(written_regions(&sandbox), ["eu-central-1", "eu-central-1"], "nothing written");
}

#[test]
fn a_name_clash_is_reported_once_with_a_prefix_that_avoids_it() {
    let mut text = ONE_SESSION.to_owned();
    for i in 1..=12 {
        text.push_str(&format!(
            "\n[profile account-{i:03}.AdministratorAccess]\nregion = eu-west-3\n"
        ));
    }
    let sandbox = Sandbox::new(&text, &["--accounts", "12", "--roles-per-account", "1"]);
    assert!(sandbox.cmd("aws-sso-login").output().expect("login").status.success());
    let out = ls(&sandbox, &["--write-profiles"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warnings = stderr(&out).lines().filter(|l| l.contains("warning")).count();
    assert_eq!(warnings, 1, "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("write_profiles_clash_once", stderr(&out)) });
    assert!(config(&sandbox).starts_with(&text), "the user's profiles are untouched");

    // The suggested prefix does write them all.
    let out = ls(&sandbox, &["--write-profiles", "--prefix", "corp-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert!(stderr(&out).contains("12 added"), "{}", stderr(&out));
}

#[test]
fn a_wrong_value_in_config_yaml_does_not_stop_the_shell_hook() {
    let sandbox = Sandbox::listed(&[]);
    let project = sandbox.path().join("project");
    std::fs::create_dir_all(&project).expect("mkdir project");
    std::fs::write(project.join(".aws-sso.yaml"), "account: 100000000001\nrole: ReadOnlyAccess\n")
        .expect("write .aws-sso.yaml");
    let allow = sandbox.cmd("aws-sso-env").arg("allow").arg(&project).output().expect("allow");
    assert!(allow.status.success(), "{}", stderr(&allow));
    sandbox.write_settings("rate_limit: fast\n");

    let out = sandbox.hook_in(&project);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("export AWS_ACCESS_KEY_ID="), "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("config_wrong_type_hook", stderr(&out)) });
}
