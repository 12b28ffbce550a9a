//! The fault campaign: processes killed while they write caches, fifty credential processes at
//! once on an expired login, a full disk, the permissions of every file we create, and a listing
//! under throttling, server errors and a login that expires mid-run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox, sha1_hex};
use aws_sso_tests::{stderr, stdout};
use serde_json::Value;

/// `~/.aws/cli/cache/<key>.json` of (corp, account, role), as the AWS CLI names it.
fn cli_cache_file(sandbox: &Sandbox, account: &str, role: &str) -> PathBuf {
    let key = sha1_hex(&format!(
        r#"{{"accountId":"{account}","roleName":"{role}","sessionName":"corp"}}"#
    ));
    sandbox.cli_cache().join(format!("{key}.json"))
}

fn our_cache(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join(".cache/aws-sso")
}

fn account_cache(sandbox: &Sandbox) -> PathBuf {
    our_cache(sandbox).join("accounts-corp.json")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON ({e})", path.display()))
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, value.to_string()).expect("write");
}

/// Makes the cached SSO token of `corp` expired, keeping its refresh token.
fn expire_token(sandbox: &Sandbox) {
    let path = sandbox.token_path("corp");
    let mut token = read_json(&path);
    assert!(token["refreshToken"].is_string(), "the login is refreshable: {path:?}");
    token["expiresAt"] = Value::from("2020-01-01T00:00:00Z");
    write_json(&path, &token);
}

/// Makes cached role credentials expired.
fn expire_credentials(path: &Path) {
    let mut creds = read_json(path);
    creds["Credentials"]["Expiration"] = Value::from("2020-01-01T00:00:00Z");
    write_json(path, &creds);
}

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

/// Every file under `dirs`, recursively, by path.
fn files_under(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo: Vec<PathBuf> = dirs.iter().filter(|d| d.exists()).cloned().collect();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// What `fs::write_atomic` leaves behind when killed between creating and renaming.
fn is_temp_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Lock files are empty by design, and the hook marker is read for its mtime only (it holds the
/// time as text and is rewritten in place); every other cache file is JSON.
fn is_lock_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "lock") || path.ends_with("hook-marker")
}

fn cache_dirs(sandbox: &Sandbox) -> Vec<PathBuf> {
    vec![sandbox.sso_cache(), sandbox.cli_cache(), our_cache(sandbox)]
}

/// The bytes of every cache file (not temp or lock files).
fn cache_contents(sandbox: &Sandbox) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(&cache_dirs(sandbox))
        .into_iter()
        .filter(|p| !is_temp_file(p) && !is_lock_file(p))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read cache file");
            (p, bytes)
        })
        .collect()
}

/// A complete version of a cache file has the fields a reader needs.
fn assert_complete(path: &Path, json: &Value, context: &str) {
    let dir = path.parent().expect("dir");
    let has = |field: &str| !json[field].is_null();
    let complete = if dir.ends_with(".aws/cli/cache") {
        has("Credentials") && json["Credentials"]["SessionToken"].is_string()
    } else if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("accounts-")) {
        json["accounts"].is_array()
    } else if dir.ends_with(".aws/sso/cache") {
        (has("accessToken") && has("expiresAt")) || (has("clientId") && has("clientSecret"))
    } else {
        json.is_object()
    };
    assert!(complete, "{context}: {} is incomplete: {json}", path.display());
}

/// After a kill: every file there was is still there, and every file is the old version or a
/// complete new one. Returns how many stray temporary files there are.
fn assert_caches_intact(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    sandbox: &Sandbox,
    context: &str,
) -> usize {
    let after = cache_contents(sandbox);
    for path in before.keys() {
        assert!(after.contains_key(path), "{context}: {} disappeared", path.display());
    }
    for (path, bytes) in &after {
        if before.get(path) == Some(bytes) {
            continue;
        }
        let json: Value = serde_json::from_slice(bytes).unwrap_or_else(|e| {
            panic!(
                "{context}: {} is neither the old version nor JSON ({e}): {}",
                path.display(),
                String::from_utf8_lossy(bytes)
            )
        });
        assert_complete(path, &json, context);
    }
    let strays: Vec<PathBuf> =
        files_under(&cache_dirs(sandbox)).into_iter().filter(|p| is_temp_file(p)).collect();
    for stray in &strays {
        // A half-written token or credentials file stays private until it is deleted.
        assert_eq!(mode(stray), 0o600, "{context}: {} is not private", stray.display());
    }
    strays.len()
}

/// How long one run of `command` takes when left alone.
fn time_one_run(mut command: Command) -> Duration {
    let started = Instant::now();
    let out = command.output().expect("run");
    assert!(out.status.success(), "an undisturbed run works: {}", stderr(&out));
    started.elapsed()
}

/// Starts `command`, SIGKILLs it after `delay` (unless it finished), and waits for it.
fn kill_after(mut command: Command, delay: Duration) {
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn");
    std::thread::sleep(delay);
    // Child::kill is SIGKILL on Unix: no handler runs, no destructor deletes a temp file.
    let _ = child.kill();
    child.wait().expect("wait");
}

#[test]
fn kill_9_while_writing_caches_leaves_old_or_new_complete_files() {
    // Refresh tokens are not rotated here: a kill between the refresh and the write of the new
    // token would otherwise leave a spent refresh token, which no client can prevent.
    let sandbox =
        Sandbox::listed(&["--accounts", "2", "--latency-ms", "15", "--no-rotate-refresh-tokens"]);
    let creds = cli_cache_file(&sandbox, "100000000001", "ReadOnlyAccess");
    let process = || {
        let mut command = sandbox.std_cmd("aws-sso-env");
        command.args(["credential-process", "100000000001", "ReadOnlyAccess"]);
        command
    };
    let login = || {
        let mut command = sandbox.std_cmd("aws-sso-login");
        command.arg("--force");
        command
    };
    expire_token(&sandbox);
    let process_time = time_one_run(process());
    let login_time = time_one_run(login());

    let mut random = Random(0x5EED_0008_0003);
    let mut strays = 0;
    for round in 0..20 {
        // credential-process with expired credentials and an expired (refreshable) token: it
        // refreshes the token and fetches credentials, writing both files.
        expire_token(&sandbox);
        expire_credentials(&creds);
        let before = cache_contents(&sandbox);
        let delay = random.below(process_time.as_micros() as u64 * 6 / 5);
        kill_after(process(), Duration::from_micros(delay));
        strays += assert_caches_intact(
            &before,
            &sandbox,
            &format!("credential-process killed after {delay} µs (round {round})"),
        );

        let before = cache_contents(&sandbox);
        let delay = random.below(login_time.as_micros() as u64 * 6 / 5);
        kill_after(login(), Duration::from_micros(delay));
        strays += assert_caches_intact(
            &before,
            &sandbox,
            &format!("aws-sso-login --force killed after {delay} µs (round {round})"),
        );
    }

    // Whatever was killed where, the next runs work from what is on disk.
    expire_credentials(&creds);
    let out = credential_process(&sandbox);
    assert!(out.status.success(), "after the kills: {}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert_eq!(json["Version"], 1);
    eprintln!("stray temporary files left by SIGKILL: {strays}");
}

#[test]
fn fifty_credential_processes_on_an_expired_login_refresh_once_and_fetch_once_per_role() {
    let sandbox = Sandbox::listed(&["--accounts", "2", "--latency-ms", "50"]);
    let roles = ["ReadOnlyAccess", "AdministratorAccess"];
    for role in roles {
        let out = sandbox
            .cmd("aws-sso-env")
            .args(["credential-process", "100000000001", role])
            .output()
            .expect("run");
        assert!(out.status.success(), "{role}: {}", stderr(&out));
        expire_credentials(&cli_cache_file(&sandbox, "100000000001", role));
    }
    expire_token(&sandbox);
    sandbox.emulator.reset_log();

    let children: Vec<_> = (0..50)
        .map(|i| {
            sandbox
                .std_cmd("aws-sso-env")
                .args(["credential-process", "100000000001", roles[i % 2]])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut keys: BTreeMap<&str, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "process {i}: {}", stderr(&out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
        assert_eq!(json["Version"], 1);
        let key = json["AccessKeyId"].as_str().expect("AccessKeyId").to_owned();
        keys.entry(roles[i % 2]).or_default().insert(key);
    }
    for role in roles {
        assert_eq!(keys[role].len(), 1, "{role}: all 25 got the same credentials: {keys:?}");
    }

    let ours: std::collections::BTreeSet<&String> = keys.values().flatten().collect();
    assert_eq!(ours.len(), 2, "each role has its own credentials: {keys:?}");

    // The request log has no query string, so the two fetches are told apart by the credentials
    // they handed out: two calls, two distinct keys, each given to one role's 25 processes.
    let operations = sandbox.emulator.operations();
    let count = |name: &str| operations.iter().filter(|o| *o == name).count();
    assert_eq!(count("CreateToken"), 1, "one refresh for fifty processes: {operations:?}");
    assert_eq!(count("GetRoleCredentials"), 2, "one fetch per role: {operations:?}");
}

/// Runs `bin args` with a file-size limit of one 512-byte block and SIGXFSZ ignored, so writing
/// a bigger file fails with EFBIG, as on a full disk.
fn with_tiny_file_limit(sandbox: &Sandbox, bin: &str, args: &[&str]) -> Output {
    // The sandbox's command gives the environment and the program; the shell runs it.
    let ours = sandbox.std_cmd(bin);
    let program = ours.get_program().to_owned();
    let envs: Vec<_> =
        ours.get_envs().map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned))).collect();
    let mut command = Command::new("sh");
    command.env_clear();
    for (key, value) in envs {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"")
        .arg(program)
        .args(args)
        .output()
        .expect("run sh")
}

fn assert_unchanged(before: &BTreeMap<PathBuf, Vec<u8>>, sandbox: &Sandbox, what: &str) {
    let after = cache_contents(sandbox);
    for (path, bytes) in before {
        assert_eq!(after.get(path), Some(bytes), "{what}: {} changed", path.display());
    }
    let temp: Vec<_> =
        files_under(&cache_dirs(sandbox)).into_iter().filter(|p| is_temp_file(p)).collect();
    assert!(temp.is_empty(), "{what}: a failed write cleans up its temporary file: {temp:?}");
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_old_file_stays() {
    let sandbox = Sandbox::listed(&["--accounts", "20"]);

    let cache = account_cache(&sandbox);
    assert!(std::fs::metadata(&cache).expect("cache").len() > 1024, "bigger than the limit");
    let before = cache_contents(&sandbox);
    let out = with_tiny_file_limit(&sandbox, "aws-sso-ls", &["--refresh"]);
    assert!(!out.status.success(), "ls on a full disk: {}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains(&format!("{}:", cache.display())), "names the file: {text}");
    assert!(!text.contains(".tmp"), "not the temporary file: {text}");
    assert!(text.to_lowercase().contains("too large"), "says why: {text}");
    assert!(text.contains("free some disk space"), "says what to do: {text}");
    assert_unchanged(&before, &sandbox, "ls --refresh");

    let token = sandbox.token_path("corp");
    assert!(std::fs::metadata(&token).expect("token").len() > 512, "bigger than the limit");
    let before = cache_contents(&sandbox);
    // The stand-in browser appends to its log under the same limit, and a child process gets
    // SIGXFSZ's default back (exec resets our handler): keep its log small enough to write.
    std::fs::remove_file(sandbox.browser_log()).expect("clear the browser log");
    let out = with_tiny_file_limit(&sandbox, "aws-sso-login", &["--force"]);
    assert!(!out.status.success(), "login on a full disk: {}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains(&format!("{}:", token.display())), "names the file: {text}");
    assert!(text.to_lowercase().contains("too large"), "says why: {text}");
    assert!(text.contains("free some disk space"), "says what to do: {text}");
    assert_unchanged(&before, &sandbox, "login --force");

    // With room again, the same commands work.
    assert!(sandbox.cmd("aws-sso-login").arg("--force").output().expect("login").status.success());
    assert!(sandbox.cmd("aws-sso-ls").arg("--refresh").output().expect("ls").status.success());
}

#[test]
fn a_refresh_on_a_full_disk_still_serves_the_command_and_warns_that_the_login_is_lost() {
    let sandbox = Sandbox::logged_in(&[]);
    expire_token(&sandbox);
    let before = cache_contents(&sandbox);
    let out = with_tiny_file_limit(
        &sandbox,
        "aws-sso-env",
        &["credential-process", "100000000001", "ReadOnlyAccess"],
    );
    let text = stderr(&out);
    assert!(out.status.success(), "the refreshed token serves this command: {text}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert!(json["AccessKeyId"].is_string(), "{json}");
    assert!(text.contains("could not be saved"), "warns: {text}");
    assert!(text.contains("next command will need a new login"), "says the cost: {text}");
    assert!(text.contains("free some disk space"), "says what to do: {text}");
    assert!(!text.contains(".tmp"), "names the real file, not the temporary one: {text}");
    assert_unchanged(&before, &sandbox, "credential-process");
    assert!(sandbox.emulator.operations().iter().any(|o| o == "CreateToken"), "it refreshed");

    // The warning was true: the service rotated the refresh token the disk still holds.
    let out = credential_process(&sandbox);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn an_endless_answer_is_cut_at_the_bound_with_an_error_naming_the_endpoint() {
    let sandbox = Sandbox::logged_in(&["--endless-body-first", "2"]);
    let start = Instant::now();
    let out = credential_process(&sandbox);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("larger than 4 MiB"), "says why: {text}");
    assert!(text.contains("/federation/credentials"), "names the endpoint: {text}");
    assert!(start.elapsed() < Duration::from_secs(5), "stopped reading: {:?}", start.elapsed());
    assert!(stdout(&out).is_empty(), "no credentials: {}", stdout(&out));

    let out = sandbox.cmd("aws-sso-ls").arg("--refresh").output().expect("run");
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("larger than 4 MiB"), "says why: {text}");
    assert!(text.contains("/assignment/accounts"), "names the endpoint: {text}");

    // Past the fault, the same commands work.
    let out = credential_process(&sandbox);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_unreachable_oidc_endpoint_during_a_refresh_is_a_passing_failure_not_a_lost_login() {
    let sandbox = Sandbox::logged_in(&[]);
    expire_token(&sandbox);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let out = sandbox
        .cmd("aws-sso-env")
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &url)
        .args(["credential-process", "100000000001", "ReadOnlyAccess"])
        .output()
        .expect("run");
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "not exit 3, the login is not lost: {text}");
    assert!(text.contains("Could not reach"), "gives the cause: {text}");
    assert!(text.contains("run the command again"), "says to try again: {text}");
    assert!(!text.contains("cannot be refreshed"), "{text}");

    // The login was indeed good: with the endpoint back, the same command refreshes it.
    let out = credential_process(&sandbox);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).expect("metadata").permissions().mode() & 0o7777
}

#[test]
fn every_file_we_create_is_private() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--accounts", "2"]);
    let run = |bin: &str, args: &[&str], dir: &Path| {
        let out = sandbox.cmd(bin).args(args).current_dir(dir).output().expect("run");
        assert!(out.status.success(), "{bin} {args:?}: {}", stderr(&out));
    };
    let home = sandbox.path();
    run("aws-sso-login", &[], home);
    run("aws-sso-ls", &[], home);
    run("aws-sso-env", &["100000000001", "ReadOnlyAccess"], home);
    run("aws-sso-env", &["credential-process", "100000000001", "AdministratorAccess"], home);
    let project = home.join("project");
    std::fs::create_dir(&project).expect("mkdir");
    std::fs::write(project.join(".aws-sso.yaml"), "account: 100000000001\nrole: ReadOnlyAccess\n")
        .expect("write");
    run("aws-sso-env", &["allow"], &project);

    let ours = [
        ".aws/sso",
        ".aws/sso/cache",
        ".aws/cli",
        ".aws/cli/cache",
        ".cache",
        ".cache/aws-sso",
        ".local",
        ".local/share",
        ".local/share/aws-sso",
    ];
    for dir in ours {
        let path = home.join(dir);
        assert!(path.is_dir(), "{dir} was created");
        assert_eq!(mode(&path), 0o700, "{dir} is 0700, was {:o}", mode(&path));
    }
    let roots: Vec<PathBuf> =
        [".aws/sso/cache", ".aws/cli/cache", ".cache", ".local/share/aws-sso"]
            .iter()
            .map(|d| home.join(d))
            .collect();
    let files = files_under(&roots);
    let expected = [
        sandbox.token_path("corp"),
        cli_cache_file(&sandbox, "100000000001", "ReadOnlyAccess"),
        cli_cache_file(&sandbox, "100000000001", "AdministratorAccess"),
        account_cache(&sandbox),
    ];
    for file in &expected {
        assert!(files.contains(file), "{} was written: {files:?}", file.display());
    }
    for dir in [".cache/aws-sso/locks", ".local/share/aws-sso"] {
        assert!(files.iter().any(|f| f.starts_with(home.join(dir))), "nothing in {dir}: {files:?}");
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{} is 0600, was {:o}", file.display(), mode(file));
    }
    let mut dirs: Vec<PathBuf> = roots.clone();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{} is 0700", path.display());
                dirs.push(path);
            }
        }
    }
}

#[test]
fn a_listing_under_throttling_and_server_errors_is_complete() {
    let sandbox = Sandbox::listed(&[
        "--accounts",
        "30",
        "--throttle-every",
        "5",
        "--fail-burst",
        "2",
        "--fail-burst-every",
        "11",
    ]);
    let out = sandbox.cmd("aws-sso-ls").args(["--refresh", "-o", "ids"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 60, "no account dropped");
    let stats = sandbox.emulator.stats();
    assert!(stats.throttled > 0 && stats.failed > 0, "both faults happened: {stats:?}");
    let cache = read_json(&account_cache(&sandbox));
    assert_eq!(cache["accounts"].as_array().expect("accounts").len(), 30);
}

#[test]
fn throttling_server_errors_and_an_expiring_login_end_complete_or_name_what_is_missing() {
    let sandbox = Sandbox::listed(&[
        "--accounts",
        "12",
        "--throttle-every",
        "4",
        "--fail-burst",
        "2",
        "--fail-burst-every",
        "9",
        "--token-expires-after-requests",
        "60",
    ]);
    sandbox.write_settings("concurrency: 1\n");
    let listing = |args: &[&str]| {
        sandbox.cmd("aws-sso-ls").args(["-o", "ids"]).args(args).output().expect("run")
    };
    // Each listing makes 13 portal calls plus retries, so the token's 60 requests run out
    // during one of these refreshes.
    let mut rounds = 0;
    let out = loop {
        let out = listing(&["--refresh"]);
        rounds += 1;
        if !out.status.success() || rounds == 5 {
            break out;
        }
        assert_eq!(stdout(&out).lines().count(), 24, "a complete listing: {}", stderr(&out));
    };
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("could not be fetched"), "{text}");
    assert!(text.contains("aws-sso-login"), "says how to fix it: {text}");
    let missing = text.lines().filter(|l| l.trim_start().starts_with("account-")).count();
    assert!(missing > 0, "names each missing account: {text}");
    assert_eq!(stdout(&out).lines().count(), 24, "the cached roles of the rest: {}", stdout(&out));

    // A new login and the listing is complete again, under the same faults.
    assert!(sandbox.cmd("aws-sso-login").arg("--force").output().expect("login").status.success());
    let out = listing(&["--refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 24);
}

#[test]
fn a_service_limit_below_our_rate_slows_the_listing_down_and_loses_nothing() {
    // The service allows 8 requests a second; we are set to the default 20.
    let sandbox = Sandbox::logged_in(&["--accounts", "60", "--rate-limit", "8"]);
    sandbox.emulator.reset_log();
    let out = sandbox.cmd("aws-sso-ls").args(["--refresh", "-o", "ids"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    let accounts: std::collections::BTreeSet<&str> =
        listed.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(accounts.len(), 60, "no account lost");
    // Spaced at 20/s all along, about every other request would meet a 429 (and a run of them
    // would use up an account's retries); slowing down after the first ones keeps that low.
    let stats = sandbox.emulator.stats();
    assert!(stats.throttled * 3 < stats.requests, "too many 429s: {stats:?}");
}

#[test]
fn ten_parallel_configures_and_ten_parallel_write_profiles_keep_every_change() {
    let sandbox = Sandbox::listed(&["--accounts", "3"]);
    let spawn = |bin: &str, args: Vec<String>| {
        sandbox
            .std_cmd(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let mut children = Vec::new();
    for i in 0..10 {
        let session = format!("s{i}");
        let url = format!("https://d-{i:010}.awsapps.com/start");
        children.push(spawn(
            "aws-sso-login",
            ["configure", "--sso-session", &session, "--start-url", &url, "--region", "eu-west-1"]
                .map(str::to_owned)
                .to_vec(),
        ));
        let prefix = format!("p{i}-");
        children.push(spawn(
            "aws-sso-ls",
            ["--sso-session", "corp", "--write-profiles", "--prefix", &prefix]
                .map(str::to_owned)
                .to_vec(),
        ));
    }
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "process {i}: {}", stderr(&out));
    }

    let config = std::fs::read_to_string(sandbox.config_path()).expect("read");
    for i in 0..10 {
        assert!(config.contains(&format!("[sso-session s{i}]\n")), "s{i} was lost:\n{config}");
    }
    let count = |prefix: &str| {
        config.lines().filter(|l| l.starts_with(&format!("[profile {prefix}"))).count()
    };
    let per_prefix = count("p0-");
    assert!(per_prefix > 0, "profiles were written:\n{config}");
    for i in 0..10 {
        assert_eq!(count(&format!("p{i}-")), per_prefix, "profiles of p{i}- were lost:\n{config}");
    }
}

#[test]
fn hostile_flag_values_exit_2_with_a_clear_message_and_write_nothing() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let config_before = std::fs::read_to_string(sandbox.config_path()).expect("read");
    let long = "a".repeat(5000);
    let url = "https://d-1234567890.awsapps.com/start";
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("aws-sso-env", vec!["--region", "eu-west-1\nx", "100000000001"], "expected an AWS region"),
        ("aws-sso-env", vec!["--region", &long, "100000000001"], "expected an AWS region"),
        ("aws-sso-env", vec!["--region", "", "100000000001"], "expected an AWS region"),
        ("aws-sso-env", vec!["exec", "--region", "x", "100000000001", "--", "true"], "AWS region"),
        ("aws-sso-env", vec!["credential-process", "100000000001", ""], "it is empty"),
        ("aws-sso-env", vec!["100000000001", "Admin\nAWS_X=1"], "line break"),
        (
            "aws-sso-login",
            vec!["configure", "--sso-session", "x", "--start-url", url, "--region", "eu-west-1\n"],
            "expected an AWS region",
        ),
        (
            "aws-sso-login",
            vec![
                "configure",
                "--sso-session",
                "x",
                "--start-url",
                url,
                "--region",
                "eu-west-1",
                "--scopes",
                "sso:account:access\nsso_region = us-east-1",
            ],
            "line break",
        ),
    ];
    for (bin, args, says) in cases {
        let out = sandbox.cmd(bin).args(&args).output().expect("run");
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{bin} {args:?}: {text}");
        assert!(text.contains(says), "{bin} {args:?} says why: {text}");
        assert!(out.stdout.is_empty(), "{bin} {args:?} printed: {}", stdout(&out));
    }
    let config_after = std::fs::read_to_string(sandbox.config_path()).expect("read");
    assert_eq!(config_after, config_before, "nothing was written");
}

#[test]
fn a_lock_that_cannot_be_created_fetches_with_a_warning() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    // A file where the locks directory should be: no lock file can be created in it, as on a
    // read-only home (root, who runs some CI, writes through permissions).
    let locks = our_cache(&sandbox).join("locks");
    if locks.exists() {
        std::fs::remove_dir_all(&locks).expect("remove locks");
    }
    std::fs::write(&locks, "").expect("a file in the way");

    let out = credential_process(&sandbox);
    let text = stderr(&out);
    assert!(out.status.success(), "a cache miss still fetches: {text}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert_eq!(json["Version"], 1);
    assert!(text.contains("without the lock"), "warns: {text}");
    assert!(text.contains(&locks.display().to_string()), "names the path: {text}");
    assert!(!text.contains(json["SecretAccessKey"].as_str().expect("secret")), "no secret: {text}");
}

/// Runs `bin args` with a file-size limit of one 512-byte block and SIGXFSZ left at its
/// default, which kills a process that writes past the limit unless it handles the signal.
fn with_tiny_file_limit_and_sigxfsz(sandbox: &Sandbox, bin: &str, args: &[&str]) -> Output {
    let ours = sandbox.std_cmd(bin);
    let mut command = Command::new("sh");
    command.env_clear();
    for (key, value) in ours.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .arg("-c")
        .arg("trap - XFSZ; ulimit -f 1; exec \"$0\" \"$@\"")
        .arg(ours.get_program())
        .args(args)
        .output()
        .expect("run sh")
}

#[test]
fn sigxfsz_under_a_file_size_limit_is_a_clear_error_not_a_silent_death() {
    let sandbox = Sandbox::listed(&["--accounts", "20"]);
    let cache = account_cache(&sandbox);
    assert!(std::fs::metadata(&cache).expect("cache").len() > 1024, "bigger than the limit");
    let before = cache_contents(&sandbox);
    let out = with_tiny_file_limit_and_sigxfsz(&sandbox, "aws-sso-ls", &["--refresh"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "an error exit, not a signal: {out:?}");
    assert!(text.contains(&format!("{}:", cache.display())), "names the file: {text}");
    assert!(text.contains("free some disk space"), "says what to do: {text}");
    assert_unchanged(&before, &sandbox, "ls --refresh");
}

/// `aws-sso-env credential-process` for the role most fault tests use, as an SDK runs it.
fn credential_process(sandbox: &Sandbox) -> std::process::Output {
    sandbox
        .cmd("aws-sso-env")
        .args(["credential-process", "100000000001", "ReadOnlyAccess"])
        .output()
        .expect("run")
}

#[test]
fn a_rejected_flag_value_is_shown_short_and_escaped_by_every_binary() {
    let sandbox = Sandbox::listed(&["--accounts", "2"]);
    let long = "a".repeat(5000);
    let escape = "eu-west-1\n\u{1b}]0;pwned\u{7}";
    let url = "https://d-1234567890.awsapps.com/start";
    let configure = |region: &str| -> Vec<String> {
        ["configure", "--sso-session", "x", "--start-url", url, "--region", region]
            .map(str::to_owned)
            .to_vec()
    };
    let owned = |args: &[&str]| -> Vec<String> { args.iter().map(|a| (*a).to_owned()).collect() };
    // (binary, arguments, what the message must also say: the flag, and how to fix it)
    let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
        (
            "aws-sso-env",
            owned(&["--region", &long, "100000000001"]),
            vec![
                "'--region <REGION>'",
                "expected an AWS region such as us-east-1",
                "(5000 characters)",
            ],
        ),
        (
            "aws-sso-env",
            owned(&[&format!("--region={long}"), "100000000001"]),
            vec!["--region", "expected an AWS region", "(5000 characters)"],
        ),
        (
            "aws-sso-env",
            owned(&["--region", escape, "100000000001"]),
            vec!["'--region <REGION>'", "'eu-west-1\\n\\u{1b}]0;pwned\\u{7}'"],
        ),
        ("aws-sso-login", configure(&long), vec!["'--region <REGION>'", "(5000 characters)"]),
        ("aws-sso-login", configure(escape), vec!["'--region <REGION>'", "\\u{1b}]0;pwned"]),
        (
            "aws-sso-ls",
            owned(&[&format!("--{long}")]),
            vec!["unexpected argument", "(5002 characters)"],
        ),
        // Not clap's: a name nothing knows, repeated by our own error.
        ("aws-sso-env", owned(&["--profile", &long]), vec!["profile", "(5000 characters)"]),
        ("aws-sso", owned(&[&long]), vec!["no such command", "(5000 characters)", "--list"]),
        ("aws-sso", owned(&[escape]), vec!["no such command", "\\u{1b}]0;pwned"]),
        (
            "aws-sso",
            owned(&[&format!("--{long}")]),
            vec!["unexpected argument", "(5002 characters)"],
        ),
    ];
    for (bin, args, says) in cases {
        let out = sandbox.cmd(bin).args(&args).output().expect("run");
        let text = stderr(&out);
        let shown = format!("{bin} {}", text.escape_debug());
        assert_eq!(out.status.code(), Some(2), "{shown}");
        assert!(out.stdout.is_empty(), "{bin} printed: {}", stdout(&out));
        assert!(text.len() < 1000, "the value is repeated whole: {} bytes: {shown}", text.len());
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "a control character: {shown}");
        assert!(!text.contains(&long[..200]), "{shown}");
        for needle in says {
            assert!(text.contains(needle), "says {needle:?}: {shown}");
        }
    }
}

/// An expired login whose refresh token is good meets `fault` at OIDC CreateToken: the command
/// exits 1 with `cause` and "run the command again", never asks for a new login, and leaves the
/// cached token as it was; with the service healthy again, the same command refreshes it.
fn a_refresh_fault_passes_and_the_login_survives(fault: &str, status: u64, cause: &str) {
    let sandbox = Sandbox::logged_in(&["--refresh-fault", fault, "--hang-ms", "5000"]);
    expire_token(&sandbox);
    let token = sandbox.token_path("corp");
    let before = std::fs::read(&token).expect("read the token");
    sandbox.emulator.reset_log();

    let start = Instant::now();
    let out = sandbox
        .cmd("aws-sso-env")
        // Hangs past this are timeouts, so the test does not wait out --hang-ms.
        .env("AWS_SSO_HTTP_TIMEOUT", "0.4")
        .args(["credential-process", "100000000001", "ReadOnlyAccess"])
        .output()
        .expect("run");
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "a passing failure, not exit 3: {text}");
    assert!(text.contains(cause), "gives the cause ({cause}): {text}");
    assert!(text.contains("run the command again"), "says to try again: {text}");
    assert!(!text.contains("cannot be refreshed"), "the login is not lost: {text}");
    assert!(!text.contains("Run: aws-sso-login"), "no new login is asked for: {text}");
    assert!(stdout(&out).is_empty(), "no credentials: {}", stdout(&out));
    assert!(start.elapsed() < Duration::from_secs(4), "bounded: {:?}", start.elapsed());
    assert_eq!(std::fs::read(&token).expect("read the token"), before, "token cache unchanged");
    let requests = sandbox.emulator.requests();
    let refreshes: Vec<_> =
        requests.iter().filter(|r| r["operation"] == "CreateToken").map(|r| &r["status"]).collect();
    assert!(!refreshes.is_empty(), "it tried to refresh: {requests:?}");
    assert!(refreshes.iter().all(|s| s.as_u64() == Some(status)), "{fault}: {requests:?}");
    assert!(!requests.iter().any(|r| r["operation"] == "GetRoleCredentials"), "{requests:?}");

    sandbox.emulator.clear_faults();
    let out = credential_process(&sandbox);
    assert!(out.status.success(), "with the service healthy the login works: {}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("Version 1 JSON");
    assert!(json["AccessKeyId"].is_string(), "{json}");
    assert_ne!(std::fs::read(&token).expect("read the token"), before, "refreshed and saved");
}

#[test]
fn an_oidc_500_during_a_refresh_is_a_passing_failure_and_the_login_survives() {
    a_refresh_fault_passes_and_the_login_survives("500", 500, "InternalServerException (HTTP 500)");
}

#[test]
fn an_oidc_hang_during_a_refresh_times_out_as_a_passing_failure_and_the_login_survives() {
    a_refresh_fault_passes_and_the_login_survives("hang", 500, "did not answer");
}

#[test]
fn an_oidc_garbage_body_during_a_refresh_is_a_passing_failure_and_the_login_survives() {
    a_refresh_fault_passes_and_the_login_survives("garbage", 200, "could not be read");
}

#[test]
fn an_oidc_429_during_a_refresh_is_a_passing_failure_and_the_login_survives() {
    a_refresh_fault_passes_and_the_login_survives("429", 429, "throttling");
}
