//! First use in a big organization: a name costs the account index and at most one account's
//! roles, never the full role crawl; accounts are found by any part of their name on the command
//! line and only exactly from a project file; the advice of a "not found" follows the index's age.

use std::path::{Path, PathBuf};

use aws_sso_tests::sandbox::Sandbox;
use aws_sso_tests::stderr;
use aws_sso_tests::with_filters;
use serde_json::Value;

/// Company-prefixed names, as big organizations name their accounts.
const FIXTURE: &str = r#"{"accounts":[
 {"accountId":"100000000001","accountName":"acme-staging","emailAddress":"a@example.com","roles":["AdministratorAccess","ReadOnlyAccess"]},
 {"accountId":"100000000002","accountName":"acme-staging2","emailAddress":"b@example.com","roles":["ReadOnlyAccess"]},
 {"accountId":"100000000003","accountName":"acme-prod","emailAddress":"c@example.com","roles":["AdministratorAccess","ReadOnlyAccess"]},
 {"accountId":"100000000004","accountName":"acme-production","emailAddress":"d@example.com","roles":["ReadOnlyAccess"]},
 {"accountId":"100000000005","accountName":"acme-payments","emailAddress":"e@example.com","roles":["ReadOnlyAccess"]},
 {"accountId":"010000000006","accountName":"acme-billing","emailAddress":"f@example.com","roles":["Billing"]},
 {"accountId":"100000000007","accountName":"acme-data-lake","emailAddress":"g@example.com","roles":["ReadOnlyAccess"]}
]}"#;

struct Org {
    sandbox: Sandbox,
    _dir: tempfile::TempDir,
}

/// Logged in to the fixture's organization, nothing listed or cached yet.
fn org() -> Org {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("accounts.json");
    std::fs::write(&fixture, FIXTURE).expect("write fixture");
    let sandbox = Sandbox::logged_in(&["--fixture", fixture.to_str().expect("utf-8")]);
    sandbox.emulator.reset_log();
    Org { sandbox, _dir: dir }
}

fn env_json(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.cmd("aws-sso-env").args(["-f", "json"]).args(args).output().expect("run aws-sso-env")
}

/// How many times each portal operation was asked for since the log was last reset.
fn count(sandbox: &Sandbox, operation: &str) -> usize {
    sandbox.emulator.operations().iter().filter(|o| *o == operation).count()
}

fn account_cache(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join(".cache/aws-sso/accounts-corp.json")
}

fn exported_account(out: &std::process::Output) -> String {
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    json["accountId"].as_str().map(str::to_owned).unwrap_or_else(|| panic!("{json}"))
}

#[test]
fn a_name_on_a_cold_cache_costs_the_index_and_one_accounts_roles() {
    let sandbox = Sandbox::logged_in(&["--accounts", "250", "--roles-per-account", "3"]);
    sandbox.emulator.reset_log();
    let out = env_json(&sandbox, &["account-200", "AdministratorAccess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // 250 accounts are three pages; the role is checked against that one account's roles.
    assert_eq!(count(&sandbox, "ListAccounts"), 3, "{:?}", sandbox.emulator.operations());
    assert_eq!(count(&sandbox, "ListAccountRoles"), 1, "{:?}", sandbox.emulator.operations());
    assert_eq!(count(&sandbox, "GetRoleCredentials"), 1);
    assert_eq!(sandbox.emulator.operations().len(), 5);

    // Another account of the same index: its roles only.
    sandbox.emulator.reset_log();
    let out = env_json(&sandbox, &["account-017", "ReadOnlyAccess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sandbox.emulator.operations(), ["ListAccountRoles", "GetRoleCredentials"]);

    // Completion, which never fetches, now offers every account of the index.
    let mut complete = sandbox.std_cmd("aws-sso-env");
    complete
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "1")
        .env("_CLAP_IFS", "\n")
        .args(["--", "aws-sso-env", "account-24"]);
    let offered = complete.output().expect("complete");
    let words = String::from_utf8_lossy(&offered.stdout).lines().count();
    assert_eq!(
        words,
        10,
        "account-240 … account-249: {}",
        String::from_utf8_lossy(&offered.stdout)
    );

    // A listing after that fetches the roles it lacks, and keeps the ones it has.
    sandbox.emulator.reset_log();
    let ls = sandbox.cmd("aws-sso-ls").args(["-o", "ids"]).output().expect("ls");
    assert!(ls.status.success(), "{}", stderr(&ls));
    assert_eq!(count(&sandbox, "ListAccounts"), 0, "the index is fresh");
    assert_eq!(count(&sandbox, "ListAccountRoles"), 248);
    assert_eq!(String::from_utf8_lossy(&ls.stdout).lines().count(), 250 * 3);
}

#[test]
fn ls_with_a_filter_fetches_only_the_roles_of_the_accounts_it_names() {
    let f = org();
    let out = f.sandbox.cmd("aws-sso-ls").args(["-o", "ids", "staging"]).output().expect("ls");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "100000000001 AdministratorAccess\n100000000001 ReadOnlyAccess\n100000000002 ReadOnlyAccess\n"
    );
    assert_eq!(
        f.sandbox.emulator.operations(),
        ["ListAccounts", "ListAccountRoles", "ListAccountRoles"]
    );
    // A filter of role names alone needs every account's roles.
    f.sandbox.emulator.reset_log();
    let out = f.sandbox.cmd("aws-sso-ls").args(["-o", "ids", "billing"]).output().expect("ls");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "010000000006 Billing\n");
    assert_eq!(count(&f.sandbox, "ListAccountRoles"), 1, "acme-billing's only");
    let out =
        f.sandbox.cmd("aws-sso-ls").args(["-o", "ids", "Administrator"]).output().expect("ls");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "100000000003 AdministratorAccess\n100000000001 AdministratorAccess\n"
    );
    assert_eq!(count(&f.sandbox, "ListAccountRoles"), 1 + 4, "the four not fetched yet");
}

#[test]
fn any_part_of_a_name_on_the_command_line() {
    let f = org();
    let by = |args: &[&str]| env_json(&f.sandbox, args);
    // A part of one name only.
    let out = by(&["payments", "ReadOnlyAccess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exported_account(&out), "100000000005");
    // In two names, a whole word of one.
    let out = by(&["staging", "ReadOnly"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exported_account(&out), "100000000001");
    // A word in the middle of a name, and an id with its leading zero.
    assert_eq!(exported_account(&by(&["data", "ReadOnlyAccess"])), "100000000007");
    assert_eq!(exported_account(&by(&["010000000006", "Billing"])), "010000000006");
    assert_eq!(exported_account(&by(&["billing"])), "010000000006", "its only role");
    // The index was fetched once for all of these.
    assert_eq!(count(&f.sandbox, "ListAccounts"), 1, "{:?}", f.sandbox.emulator.operations());

    let cases: [(&str, &[&str]); 3] = [
        ("ambiguous_part", &["acme", "ReadOnlyAccess"]),
        ("ambiguous_word", &["stag", "ReadOnlyAccess"]),
        ("typo", &["acme-prodution", "ReadOnlyAccess"]),
    ];
    for (name, args) in cases {
        let out = by(args);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        with_filters!(f.sandbox, {
            insta::assert_snapshot!(format!("big_org_{name}"), stderr(&out))
        });
    }
    // Names not in a fresh index fetch nothing more.
    assert_eq!(count(&f.sandbox, "ListAccounts"), 1, "{:?}", f.sandbox.emulator.operations());
}

/// Makes the cached index `hours` old.
fn age_index(sandbox: &Sandbox, hours: i64) {
    let path = account_cache(sandbox);
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours);
    json["fetchedAt"] = Value::String(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    std::fs::write(&path, serde_json::to_vec(&json).expect("json")).expect("write");
}

#[test]
fn a_name_a_stale_index_lacks_fetches_it_again_and_a_fresh_one_does_not() {
    let f = org();
    let out = env_json(&f.sandbox, &["acme-prod", "ReadOnlyAccess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Fresh: a name it lacks is not there, and no refresh is advised.
    let out = env_json(&f.sandbox, &["acme-new", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("refresh"), "{}", stderr(&out));
    assert_eq!(count(&f.sandbox, "ListAccounts"), 1);

    // Two hours old: the account may be new, so the index is fetched again first.
    age_index(&f.sandbox, 2);
    let out = env_json(&f.sandbox, &["acme-new", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(count(&f.sandbox, "ListAccounts"), 2);
    assert!(stderr(&out).contains("(listed less than a minute ago)"), "{}", stderr(&out));

    with_filters!(f.sandbox, {
        insta::assert_snapshot!("big_org_not_found_in_a_fresh_index", stderr(&out))
    });

    // Two hours old and no login to fetch it with: the account may be new, so the answer is
    // to log in, not "no such account".
    age_index(&f.sandbox, 2);
    let logout = f.sandbox.cmd("aws-sso-login").arg("logout").output().expect("logout");
    assert!(logout.status.success(), "{}", stderr(&logout));
    let out = env_json(&f.sandbox, &["acme-new", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("Run: aws-sso-login"), "{}", stderr(&out));
    // A name the old index holds still resolves from it, for the login message to follow.
    let out = env_json(&f.sandbox, &["acme-prod", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn a_failing_index_page_names_the_page_and_keeps_the_old_index() {
    // 250 accounts: page 2 fails every attempt.
    let sandbox = Sandbox::logged_in(&[
        "--accounts",
        "250",
        "--roles-per-account",
        "1",
        "--fail-burst",
        "5",
        "--fail-burst-every",
        "6",
    ]);
    // An old index that lacks the name: it must be fetched again, and is still there after.
    let path = account_cache(&sandbox);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let old = r#"{"version":1,"ssoSession":"corp","startUrl":"START","region":"us-east-1","fetchedAt":"2020-01-01T00:00:00Z","accounts":[{"accountId":"100000000001","accountName":"account-001","roles":[],"rolesFetchedAt":null}]}"#;
    let config = std::fs::read_to_string(sandbox.config_path()).expect("config");
    let url = config
        .lines()
        .find_map(|l| l.strip_prefix("sso_start_url = "))
        .expect("start url")
        .to_owned();
    let region = config.lines().find_map(|l| l.strip_prefix("sso_region = ")).expect("region");
    let old = old.replace("START", &url).replace("us-east-1", region);
    std::fs::write(&path, &old).expect("write");
    sandbox.emulator.reset_log();
    let out = env_json(&sandbox, &["account-200", "ReadOnlyAccess"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(
            "the account list of corp could not be fetched, so \"account-200\" could not be resolved: page 2 of the account list could not be fetched (100 accounts were read before it)"
        ),
        "{message}"
    );
    assert!(message.contains("try again"), "{message}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), old, "the old index is kept");
}

/// `dir` holding a project file of `text`, allowed.
fn allowed_project(sandbox: &Sandbox, dir: &Path, text: &str) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join(".aws-sso.yaml"), text).expect("write");
    let allow = sandbox.cmd("aws-sso-env").arg("allow").current_dir(dir).output().expect("allow");
    assert!(allow.status.success(), "{}", stderr(&allow));
}

#[test]
fn the_hook_resolves_a_name_on_a_cold_cache_on_the_first_prompt() {
    let sandbox = Sandbox::logged_in(&["--accounts", "250", "--roles-per-account", "3"]);
    let project = sandbox.path().join("project");
    allowed_project(&sandbox, &project, "account: account-123\nrole: ReadOnlyAccess\n");
    sandbox.emulator.reset_log();
    let out = sandbox.hook_in(&project);
    assert!(out.status.success());
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(code.contains("export AWS_ACCESS_KEY_ID="), "{code}\n{}", stderr(&out));
    assert!(code.contains("export AWS_SSO_ACCOUNT_ID='100000000123'"), "{code}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert_eq!(count(&sandbox, "ListAccounts"), 3);
    assert_eq!(count(&sandbox, "ListAccountRoles"), 1);
    // A project file names accounts exactly: a part of a name is refused, with the reason.
    allowed_project(&sandbox, &project, "account: t-123\nrole: ReadOnlyAccess\n");
    let out = sandbox.hook_in(&project);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("export AWS_ACCESS_KEY_ID="));
    assert!(stderr(&out).contains("No account matches \"t-123\""), "{}", stderr(&out));
}

#[test]
fn an_index_slower_than_the_prompt_bound_finishes_in_the_background() {
    // Three pages at 150 ms each: more than the 0.3 s the prompt waits.
    let sandbox = Sandbox::logged_in(&[
        "--accounts",
        "250",
        "--roles-per-account",
        "3",
        "--latency-ms",
        "150",
    ]);
    let project = sandbox.path().join("project");
    allowed_project(&sandbox, &project, "account: account-123\nrole: ReadOnlyAccess\n");
    let prompt = |timeout: &str| {
        sandbox
            .cmd("aws-sso-env")
            .args(["hook", "bash"])
            .current_dir(&project)
            .env("PWD", &project)
            .env("AWS_SSO_HOOK_TIMEOUT", timeout)
            .output()
            .expect("run the hook")
    };
    let marker = sandbox.path().join(".cache/aws-sso/hook-marker");
    let touched = || std::fs::metadata(&marker).and_then(|m| m.modified()).ok();
    let before = touched();
    // The marker's mtime has a resolution the test must step over to see a change.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let started = std::time::Instant::now();
    let first = prompt("0.3");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the prompt was held");
    assert!(!String::from_utf8_lossy(&first.stdout).contains("export AWS_ACCESS_KEY_ID="));
    assert!(
        stderr(&first).contains(
            "so it goes on in the background and the credentials follow on a later prompt"
        ),
        "{}",
        stderr(&first)
    );
    // The background fetch writes the index, then touches the marker every shell watches.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while touched() == before {
        assert!(std::time::Instant::now() < deadline, "the background fetch never finished");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let cache: Value =
        serde_json::from_slice(&std::fs::read(account_cache(&sandbox)).expect("read"))
            .expect("json");
    assert_eq!(cache["accounts"].as_array().map(Vec::len), Some(250));
    sandbox.emulator.reset_log();
    let next = prompt("5");
    let code = String::from_utf8_lossy(&next.stdout);
    assert!(code.contains("export AWS_SSO_ACCOUNT_ID='100000000123'"), "{code}\n{}", stderr(&next));
    assert_eq!(
        sandbox.emulator.operations(),
        ["ListAccountRoles", "GetRoleCredentials"],
        "the index came from the background fetch"
    );
}
