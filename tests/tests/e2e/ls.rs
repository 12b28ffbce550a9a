//! `aws-sso-ls` against the emulator: every output format, the cache, and every fault of the
//! portal ending in a complete listing or an error that names what is missing.

use std::path::PathBuf;

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

fn ls(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.cmd("aws-sso-ls").args(args).output().expect("run aws-sso-ls")
}

fn account_cache(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join(".cache/aws-sso/accounts-corp.json")
}

fn portal_calls(sandbox: &Sandbox) -> usize {
    sandbox
        .emulator
        .operations()
        .iter()
        .filter(|o| matches!(o.as_str(), "ListAccounts" | "ListAccountRoles"))
        .count()
}

#[test]
fn help() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = ls(&sandbox, &["--help"]);
    assert!(out.status.success());
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn every_output_format() {
    let sandbox = Sandbox::logged_in(&["--accounts", "3", "--roles-per-account", "2"]);
    for (name, args) in [
        ("table", &[][..]),
        ("table_wide", &["--wide"]),
        ("json", &["--output", "json"]),
        ("csv", &["--output", "csv"]),
        ("ids", &["--output", "ids"]),
        ("accounts", &["--accounts"]),
        ("accounts_json", &["--accounts", "--output", "json"]),
    ] {
        let out = ls(&sandbox, args);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(format!("format_{name}"), stdout(&out));
    }
    let json: Value = serde_json::from_slice(&ls(&sandbox, &["-o", "json"]).stdout).expect("json");
    assert_eq!(json.as_array().expect("array").len(), 3);
    assert_eq!(json[0]["roles"].as_array().expect("roles").len(), 2);
}

#[test]
fn filters_match_ids_names_and_roles() {
    let sandbox = Sandbox::logged_in(&["--accounts", "12", "--roles-per-account", "3"]);
    let all = ls(&sandbox, &["-o", "ids"]);
    assert_eq!(stdout(&all).lines().count(), 36);

    let out = ls(&sandbox, &["ACCOUNT-01", "readonly"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("filter_name_and_role", stdout(&out));

    let first_id =
        stdout(&all).lines().next().expect("a row").split(' ').next().expect("id").to_owned();
    let out = ls(&sandbox, &["-o", "ids", &first_id[..6]]);
    assert!(stdout(&out).lines().count() >= 3, "an id prefix is enough: {}", stdout(&out));
    assert!(stdout(&out).lines().all(|l| l.starts_with(&first_id[..6])));

    let none = ls(&sandbox, &["no-such-thing"]);
    assert!(none.status.success());
    insta::assert_snapshot!("filter_nothing", format!("{}---\n{}", stdout(&none), stderr(&none)));
}

#[test]
fn the_cache_is_used_until_refresh() {
    let sandbox = Sandbox::logged_in(&["--accounts", "5"]);
    assert!(ls(&sandbox, &[]).status.success());
    let first = portal_calls(&sandbox);
    assert_eq!(first, 1 + 5, "one page of accounts, then the roles of each");
    assert!(account_cache(&sandbox).exists());

    assert!(ls(&sandbox, &["-o", "json"]).status.success());
    assert_eq!(portal_calls(&sandbox), first, "a fresh cache makes no request");

    assert!(ls(&sandbox, &["--refresh"]).status.success());
    assert_eq!(portal_calls(&sandbox), 2 * first);

    assert!(ls(&sandbox, &["--accounts", "--refresh"]).status.success());
    assert_eq!(portal_calls(&sandbox), 2 * first + 1, "--accounts: one paged call only");
    let roles = ls(&sandbox, &["-o", "ids"]);
    assert_eq!(stdout(&roles).lines().count(), 10, "roles are kept by an accounts-only refresh");
}

#[test]
fn an_expired_login_still_lists_from_the_cache() {
    let sandbox = Sandbox::logged_in(&[]);
    assert!(ls(&sandbox, &[]).status.success());
    let token = sandbox.token_path("corp");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&token).expect("read")).expect("json");
    json["expiresAt"] = Value::from("2020-01-01T00:00:00Z");
    json.as_object_mut().expect("object").remove("refreshToken");
    std::fs::write(&token, json.to_string()).expect("write");

    let out = ls(&sandbox, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 3 * 2);
    with_filters!(sandbox, { insta::assert_snapshot!("expired_login_cache", stderr(&out)) });

    let refresh = ls(&sandbox, &["--refresh"]);
    assert_eq!(refresh.status.code(), Some(3), "{}", stderr(&refresh));
}

#[test]
fn no_cache_and_no_login_says_how_to_log_in() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let out = ls(&sandbox, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    insta::assert_snapshot!("not_logged_in", stderr(&out));
}

#[test]
fn throttling_one_request_in_three_still_lists_everything() {
    let sandbox = Sandbox::logged_in(&["--accounts", "30", "--throttle-every", "3"]);
    let out = ls(&sandbox, &["-o", "ids"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 60, "no account dropped");
}

#[test]
fn server_error_bursts_are_retried() {
    let sandbox =
        Sandbox::logged_in(&["--accounts", "20", "--fail-burst", "2", "--fail-burst-every", "7"]);
    // One request at a time, so each burst of two failures meets the same account's three
    // attempts in a row, and the test does not depend on how concurrent requests interleave.
    sandbox.write_settings("concurrency: 1\n");
    let out = ls(&sandbox, &["-o", "ids"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 40);
}

#[test]
fn a_request_that_hangs_times_out_and_is_retried() {
    let sandbox =
        Sandbox::logged_in(&["--accounts", "4", "--hang-first", "1", "--hang-ms", "20000"]);
    let out = sandbox
        .cmd("aws-sso-ls")
        .args(["-o", "ids"])
        .env("AWS_SSO_HTTP_TIMEOUT", "1")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 8);
}

#[test]
fn a_login_that_expires_mid_listing_keeps_the_cached_roles_and_names_the_missing() {
    // 1 page + 6 role calls fit in the first listing; the refresh runs out after 2 more.
    let sandbox = Sandbox::logged_in(&["--accounts", "6", "--token-expires-after-requests", "9"]);
    let first = ls(&sandbox, &["-o", "ids"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(stdout(&first).lines().count(), 12);
    let cache_before = std::fs::read_to_string(account_cache(&sandbox)).expect("cache");

    let out = ls(&sandbox, &["--refresh", "-o", "ids"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 12, "previous roles listed: {}", stdout(&out));
    let text = stderr(&out);
    assert!(text.contains("could not be fetched"), "{text}");
    assert!(text.contains("aws-sso-login"), "says how to fix it: {text}");
    let missing = text.lines().filter(|l| l.trim_start().starts_with("account-")).count();
    assert_eq!(missing, 5, "names each missing account: {text}");
    insta::assert_snapshot!("missing_accounts_warning", text);

    let cache: Value =
        serde_json::from_str(&std::fs::read_to_string(account_cache(&sandbox)).expect("cache"))
            .expect("json");
    let before: Value = serde_json::from_str(&cache_before).expect("json");
    for (a, b) in cache["accounts"]
        .as_array()
        .expect("a")
        .iter()
        .zip(before["accounts"].as_array().expect("b"))
    {
        assert_eq!(a["roles"], b["roles"], "nothing lost from the cache");
    }
}

#[test]
fn a_corrupt_cache_is_reported_and_rebuilt() {
    let sandbox = Sandbox::logged_in(&[]);
    let path = account_cache(&sandbox);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&path, "{\"version\":1,\"accounts\":[{\"accountId\":\"1").expect("write");
    let out = ls(&sandbox, &["-o", "ids"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6);
    with_filters!(sandbox, { insta::assert_snapshot!("corrupt_cache", stderr(&out)) });
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("rebuilt");
    assert_eq!(again["accounts"].as_array().expect("accounts").len(), 3);
}

#[test]
fn accounts_without_roles_are_listed_not_dropped() {
    let sandbox = Sandbox::logged_in(&["--accounts", "3", "--accounts-without-roles", "1"]);
    let out = ls(&sandbox, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("account_without_roles", stdout(&out));
}

#[test]
fn hostile_account_names_are_printed_safely() {
    let sandbox = Sandbox::logged_in(&["--accounts", "8", "--name-style", "hostile"]);
    for (name, args) in [("table", &[][..]), ("csv", &["-o", "csv"]), ("json", &["-o", "json"])] {
        let out = ls(&sandbox, args);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(format!("hostile_{name}"), stdout(&out));
    }
    let json: Value =
        serde_json::from_slice(&ls(&sandbox, &["-o", "json"]).stdout).expect("valid json");
    let accounts = json.as_array().expect("array");
    assert_eq!(accounts.len(), 8);
    let same: Vec<&Value> = accounts.iter().filter(|a| a["accountName"] == "same name").collect();
    assert_eq!(same.len(), 2, "duplicate names are two accounts");
    assert_ne!(same[0]["accountId"], same[1]["accountId"]);

    // Profiles for them have names the AWS config parser accepts, one per account and role.
    let out = ls(&sandbox, &["--write-profiles"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let config = std::fs::read_to_string(sandbox.config_path()).expect("read");
    let names: Vec<&str> = config
        .lines()
        .filter_map(|l| l.strip_prefix("[profile ")?.strip_suffix(']'))
        .filter(|n| *n != "dev")
        .collect();
    assert_eq!(names.len(), 16, "{config}");
    insta::assert_snapshot!("hostile_profile_names", names.join("\n"));
}

const COMMENTED_CONFIG: &str = "\
# Work accounts. Do not edit the generated block by hand.
[default]
region = eu-west-1 ; inline comment
output = json

[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

# my own profile
[profile dev]
sso_session = corp
sso_account_id = 100000000001
sso_role_name = ReadOnlyAccess

[services local]
sso =
  endpoint_url = http://127.0.0.1:1
";

#[test]
fn write_profiles_keeps_every_byte_outside_its_block() {
    let sandbox = Sandbox::new(COMMENTED_CONFIG, &["--accounts", "3", "--roles-per-account", "2"]);
    assert!(sandbox.cmd("aws-sso-login").output().expect("login").status.success());

    let dry = ls(&sandbox, &["--write-profiles", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    insta::assert_snapshot!("write_profiles_dry_run", stdout(&dry));
    assert_eq!(
        std::fs::read_to_string(sandbox.config_path()).expect("read"),
        COMMENTED_CONFIG,
        "dry run writes nothing"
    );

    let out = ls(&sandbox, &["--write-profiles"]);
    assert!(out.status.success(), "{}", stderr(&out));
    with_filters!(sandbox, { insta::assert_snapshot!("write_profiles", stderr(&out)) });
    let written = std::fs::read_to_string(sandbox.config_path()).expect("read");
    assert!(
        written.starts_with(COMMENTED_CONFIG),
        "the file before the block is untouched:\n{written}"
    );
    let backup =
        std::fs::read_to_string(sandbox.path().join(".aws/config.aws-sso-backup")).expect("backup");
    assert_eq!(backup, COMMENTED_CONFIG);

    // The profiles work: botocore-style lookup through our own status of the config.
    assert_eq!(written.matches("[profile ").count(), 1 + 6);

    // A second run changes nothing.
    let again = ls(&sandbox, &["--write-profiles"]);
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(sandbox.config_path()).expect("read"), written);
}

#[test]
fn write_profiles_prunes_only_when_asked() {
    let mut sandbox = Sandbox::logged_in(&["--accounts", "3", "--roles-per-account", "1"]);
    assert!(ls(&sandbox, &["--write-profiles"]).status.success());
    let count = |s: &Sandbox| {
        std::fs::read_to_string(s.config_path()).expect("read").matches("[profile account-").count()
    };
    assert_eq!(count(&sandbox), 3);

    // The organization shrinks: a new service with two accounts, which knows nothing of the old
    // client registration, so log in from scratch.
    sandbox.emulator =
        aws_sso_tests::Emulator::start(&["--accounts", "2", "--roles-per-account", "1"]);
    std::fs::remove_dir_all(sandbox.sso_cache()).expect("forget the old login");
    assert!(sandbox.cmd("aws-sso-login").output().expect("login").status.success());
    let kept = ls(&sandbox, &["--refresh", "--write-profiles"]);
    assert!(kept.status.success(), "{}", stderr(&kept));
    assert!(stderr(&kept).contains("1 kept whose account or role is gone"), "{}", stderr(&kept));
    assert_eq!(count(&sandbox), 3, "nothing removed without --prune");

    let pruned = ls(&sandbox, &["--write-profiles", "--prune"]);
    assert!(pruned.status.success(), "{}", stderr(&pruned));
    assert!(stderr(&pruned).contains("1 removed"), "{}", stderr(&pruned));
    assert_eq!(count(&sandbox), 2);

    let refused = ls(&sandbox, &["account-001", "--write-profiles", "--prune"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[test]
fn prune_under_one_prefix_keeps_the_profiles_another_prefix_wrote() {
    let sandbox = Sandbox::logged_in(&["--accounts", "2", "--roles-per-account", "1"]);
    let count = |prefix: &str| {
        std::fs::read_to_string(sandbox.config_path())
            .expect("read")
            .matches(&format!("[profile {prefix}account-"))
            .count()
    };
    assert!(ls(&sandbox, &["--write-profiles", "--prefix", "a-"]).status.success());
    assert_eq!(count("a-"), 2);

    let out = ls(&sandbox, &["--write-profiles", "--prefix", "b-", "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count("b-"), 2);
    assert_eq!(
        count("a-"),
        2,
        "--prune with --prefix b- removed the a- profiles: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("0 removed"), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 kept that another --prefix"), "{}", stderr(&out));
}

#[test]
fn prune_without_a_prefix_keeps_the_profiles_a_prefix_wrote_though_the_template_could_name_them() {
    let sandbox = Sandbox::logged_in(&["--accounts", "2", "--roles-per-account", "1"]);
    let written = || std::fs::read_to_string(sandbox.config_path()).expect("read");
    let ok = |args: &[&str]| {
        let out = ls(&sandbox, args);
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    ok(&["--write-profiles", "--prefix", "a-"]);
    assert_eq!(written().matches("[profile a-account-").count(), 2);
    assert_eq!(written().matches("# aws-sso-ls --prefix \"a-\"").count(), 2, "{}", written());

    // `{account_name}` could be "a-account-001": only the record in the block tells them apart.
    let out = ok(&["--write-profiles", "--template", "{account_name}.{role}", "--prune"]);
    assert_eq!(written().matches("[profile a-account-").count(), 2, "{}", stderr(&out));
    assert_eq!(written().matches("[profile account-").count(), 2);
    assert!(stderr(&out).contains("0 removed"), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 kept that another --prefix"), "{}", stderr(&out));

    // The record is a comment line: botocore's own parser reads every profile without it.
    let Some(python) = aws_sso_tests::python::python_with_botocore() else { return };
    let script = "import sys, json; from botocore.configloader import raw_config_parse; \
                  print(json.dumps(raw_config_parse(sys.argv[1])))";
    let parsed = std::process::Command::new(python)
        .args(["-c", script])
        .arg(sandbox.config_path())
        .output()
        .expect("run python");
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    let config: Value = serde_json::from_slice(&parsed.stdout).expect("json");
    let profile = &config["profile a-account-001.AdministratorAccess"];
    assert_eq!(profile["sso_account_id"], "100000000001", "{config}");
    assert_eq!(profile["sso_session"], "corp");
    assert_eq!(profile.as_object().map(serde_json::Map::len), Some(4), "{profile}");
}
