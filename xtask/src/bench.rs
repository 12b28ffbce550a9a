//! `cargo xtask bench`: the speed targets of the suite, measured on release builds
//! against the emulator, each figure printed beside a reference measured in the same run. The
//! machines are shared and noisy, so this reports; it does not fail a build.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sso_tests::Sandbox;
use aws_sso_tests::sandbox::ONE_SESSION;
use aws_sso_tests::shells::FISH_GENERATED_COMPLETIONS;

use crate::{BenchGroup, build_binaries, step, target_dir, workspace_root};

/// `groups`: the groups to run, or empty for all.
pub fn run(groups: &[BenchGroup]) -> anyhow::Result<()> {
    let wants = |group: BenchGroup| groups.is_empty() || groups.contains(&group);
    step("Building release binaries");
    build_binaries(&["--release"])?;
    let bin = target_dir().join("release");
    let mut report = Vec::new();
    if wants(BenchGroup::Ls) {
        report.extend(cold_refresh(&bin)?);
        report.extend(rate_limited(&bin)?);
        report.push(throttled_below_our_rate(&bin)?);
        report.extend(from_cache(&bin)?);
    }
    if wants(BenchGroup::Env) {
        report.extend(env_fast_path(&bin)?);
    }
    if wants(BenchGroup::FirstUse) {
        report.extend(first_use(&bin)?);
    }
    if wants(BenchGroup::Picker) {
        report.extend(picker(&bin)?);
    }
    if wants(BenchGroup::Eks) {
        report.extend(eks_token(&bin)?);
    }
    if wants(BenchGroup::Hook) {
        report.extend(shell_hook(&bin)?);
    }
    if wants(BenchGroup::Use) {
        report.extend(shell_use(&bin)?);
    }
    if wants(BenchGroup::Complete) {
        report.extend(completion(&bin)?);
    }
    step(&format!("Results ({})", machine()));
    #[allow(clippy::print_stdout)]
    {
        print!("{}", table(&report));
    }
    Ok(())
}

/// One line of the report.
struct Row {
    case: String,
    /// Our median, and the target it is held to.
    ours: String,
    target: String,
    /// The reference measured in the same run, and how we compare with it.
    reference: String,
    ratio: String,
}

fn row(
    case: impl Into<String>,
    ours: String,
    target: String,
    reference: String,
    ratio: String,
) -> Row {
    Row { case: case.into(), ours, target, reference, ratio }
}

fn table(rows: &[Row]) -> String {
    let header = ["case", "ours", "target", "reference (same run)", "ratio"];
    let cells: Vec<[&str; 5]> = rows
        .iter()
        .map(|r| [r.case.as_str(), &r.ours, &r.target, &r.reference, &r.ratio])
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for line in &cells {
        for (w, c) in widths.iter_mut().zip(line) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for line in std::iter::once(&header).chain(&cells) {
        let parts: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        out.push_str(&format!("| {} |\n", parts.join(" | ")));
        if std::ptr::eq(line, &header) {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        }
    }
    out
}

/// Cores, memory and the date, for the record.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or_else(|| "? GiB".to_owned(), |kb| format!("{} GiB", kb / 1024 / 1024));
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores, {memory}, {date}")
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// A logged-in sandbox whose config.yaml holds `settings`.
fn sandbox(bin: &Path, emulator: &[&str], settings: &str) -> anyhow::Result<Sandbox> {
    let mut args = emulator.to_vec();
    args.push("--quiet");
    let sandbox = Sandbox::new_in(bin, ONE_SESSION, &args);
    sandbox.write_settings(settings);
    let login = sandbox.std_cmd("aws-sso-login").output()?;
    if !login.status.success() {
        bail!("login failed: {}", String::from_utf8_lossy(&login.stderr));
    }
    Ok(sandbox)
}

fn timed(mut cmd: Command) -> anyhow::Result<(Duration, Output)> {
    let started = Instant::now();
    let out = cmd.stdin(Stdio::null()).output()?;
    let took = started.elapsed();
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok((took, out))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `ours` against `reference`: "3.2× faster" or "1.7× the reference".
fn ratio(ours: Duration, reference: Duration) -> String {
    let (a, b) = (ours.as_secs_f64(), reference.as_secs_f64());
    if a <= 0.0 || b <= 0.0 {
        return "ratio n/a".to_owned();
    }
    if a < b { format!("{:.1}× faster", b / a) } else { format!("{:.2}× the reference", a / b) }
}

/// Medians of `ours` and `reference`, sampled alternately so that a noisy moment of a shared
/// machine weighs on both alike.
fn interleaved(
    runs: usize,
    ours: &dyn Fn() -> anyhow::Result<Duration>,
    reference: &dyn Fn() -> anyhow::Result<Duration>,
) -> anyhow::Result<(Duration, Duration)> {
    let (mut a, mut b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        a.push(ours()?);
        b.push(reference()?);
    }
    Ok((median(a), median(b)))
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// 300 accounts × 3 roles, 20 ms latency, no rate limit: the cold refresh, beside
/// `aws-sso-util roles` when it is installed, and beside a sequential client (botocore's
/// paginators, as the Python tools do; our own binary at concurrency 1 when botocore is
/// missing).
fn cold_refresh(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("Cold refresh: 300 accounts × 3 roles, 20 ms latency, no rate limit");
    let emulator = ["--accounts", "300", "--roles-per-account", "3", "--latency-ms", "20"];
    let sandbox = sandbox(bin, &emulator, "rate_limit: 0\n")?;
    let ours_once = || -> anyhow::Result<Duration> {
        let mut cmd = sandbox.std_cmd("aws-sso-ls");
        cmd.args(["--refresh", "-o", "ids"]);
        let (took, out) = timed(cmd)?;
        let rows = String::from_utf8_lossy(&out.stdout).lines().count();
        if rows != 900 {
            bail!("the cold refresh listed {rows} rows, not 900");
        }
        Ok(took)
    };
    let mut rows = Vec::new();
    if aws_sso_util(&sandbox)? {
        let theirs_once = || -> anyhow::Result<Duration> {
            let (took, out) = timed(aws_sso_util_roles(&sandbox))?;
            let pairs = String::from_utf8_lossy(&out.stdout).lines().count();
            if pairs != 900 {
                bail!("aws-sso-util roles listed {pairs} pairs, not 900");
            }
            Ok(took)
        };
        let (ours, theirs) = interleaved(3, &ours_once, &theirs_once)?;
        rows.push(row(
            "cold --refresh, 300×3, 20 ms latency",
            secs(ours),
            format!("faster: {}", verdict(ours < theirs)),
            format!("aws-sso-util roles {}", secs(theirs)),
            ratio(ours, theirs),
        ));
    }
    let (ours, theirs, reference) = if has_botocore() {
        let botocore = || -> anyhow::Result<Duration> {
            sequential_botocore(&sandbox)?.context("botocore went away")
        };
        let (ours, theirs) = interleaved(3, &ours_once, &botocore)?;
        (ours, theirs, format!("sequential botocore {}", secs(theirs)))
    } else {
        let ours = median(vec![ours_once()?, ours_once()?, ours_once()?]);
        sandbox.write_settings("rate_limit: 0\nconcurrency: 1\n");
        let mut cmd = sandbox.std_cmd("aws-sso-ls");
        cmd.args(["--refresh", "-o", "ids"]);
        let (took, _) = timed(cmd)?;
        (ours, took, format!("aws-sso-ls, concurrency 1: {} (no botocore)", secs(took)))
    };
    rows.push(row(
        "cold --refresh, 300×3, 20 ms latency",
        secs(ours),
        format!("< 1.50 s: {}", verdict(ours < Duration::from_millis(1500))),
        reference,
        ratio(ours, theirs),
    ));
    Ok(rows)
}

/// The start URL of [`ONE_SESSION`]'s `corp` session.
const START_URL: &str = "https://d-1234567890.awsapps.com/start";

/// Whether `aws-sso-util` (`pip install aws-sso-util`), the Python tool most people use today
/// for listing roles and serving `credential_process`, is on PATH; when it is, it is given the
/// sandbox's login. It predates `[sso-session]` and looks the token up under the start URL (the
/// legacy cache key) rather than the session name, so the same token is copied there.
fn aws_sso_util(sandbox: &Sandbox) -> anyhow::Result<bool> {
    let found =
        Command::new("aws-sso-util").arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        std::fs::copy(sandbox.token_path("corp"), sandbox.token_path(START_URL))
            .context("giving aws-sso-util the sandbox's token")?;
    }
    Ok(found)
}

/// How the AWS CLI and the SDKs get the same credentials: `aws configure export-credentials`
/// with AWS CLI v2, else botocore's credential chain (what that command runs) when botocore is
/// installed, else nothing.
fn sdk_credentials(sandbox: &Sandbox) -> Option<(String, Command)> {
    let v2 = Command::new("aws")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"aws-cli/2."));
    if v2 {
        let mut cmd = in_sandbox(sandbox, "aws");
        cmd.args(["configure", "export-credentials", "--profile", "dev", "--format", "process"]);
        return Some(("aws configure export-credentials".to_owned(), cmd));
    }
    if has_botocore() {
        let mut cmd = in_sandbox(sandbox, "python3");
        cmd.args([
            "-c",
            "import botocore.session; \
             botocore.session.Session(profile='dev').get_credentials().get_frozen_credentials()",
        ]);
        return Some(("botocore's credential chain (no AWS CLI v2)".to_owned(), cmd));
    }
    None
}

fn has_botocore() -> bool {
    Command::new("python3")
        .args(["-c", "import botocore"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn sequential_botocore(sandbox: &Sandbox) -> anyhow::Result<Option<Duration>> {
    if !has_botocore() {
        return Ok(None);
    }
    let script = workspace_root().join("xtask/bench/sequential_listing.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(&sandbox.emulator.url).arg(sandbox.token_path("corp"));
    let (took, out) = timed(cmd)?;
    let pairs = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if pairs != "900" {
        bail!("the botocore reference listed {pairs} pairs, not 900");
    }
    Ok(Some(took))
}

/// Our refresh against a service that allows `rate` requests a second: how long it took, the
/// portal's counts, the accounts listed, and the share of the bound (served requests ÷ rate).
struct UnderLimit {
    took: Duration,
    stats: aws_sso_tests::emulator::Stats,
    accounts: usize,
    bound: Duration,
    share: f64,
}

fn refresh_under_limit(sandbox: &Sandbox, rate: f64) -> anyhow::Result<UnderLimit> {
    sandbox.emulator.reset_log();
    let mut cmd = sandbox.std_cmd("aws-sso-ls");
    cmd.args(["--refresh", "-o", "ids"]);
    let (took, out) = timed(cmd)?;
    let stats = sandbox.emulator.stats();
    let bound = Duration::from_secs_f64((stats.requests - stats.throttled) as f64 / rate);
    let share = took.as_secs_f64() / bound.as_secs_f64();
    Ok(UnderLimit { took, stats, accounts: accounts_listed(&out.stdout), bound, share })
}

/// The distinct accounts of `-o ids` (or aws-sso-util's) output: the first word of each line.
fn accounts_listed(stdout: &[u8]) -> usize {
    let text = String::from_utf8_lossy(stdout);
    text.lines().filter_map(|l| l.split(' ').next()).collect::<BTreeSet<_>>().len()
}

/// `aws-sso-util roles` for the sandbox's session, without its header line.
fn aws_sso_util_roles(sandbox: &Sandbox) -> Command {
    let mut cmd = in_sandbox(sandbox, "aws-sso-util");
    cmd.args(["roles", "--sso-start-url", START_URL, "--sso-region", "us-east-1", "--no-header"]);
    cmd
}

/// 665 accounts × 3 roles against a service limit of 20 requests a second: the time beside the
/// bound (requests ÷ 20/s), the 429s met, and the accounts lost (must be none); then the same
/// listing by `aws-sso-util roles` once, when it is installed.
fn rate_limited(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("Rate limited: 665 accounts × 3 roles, the service allows 20 requests/s (about 34 s)");
    let emulator = ["--accounts", "665", "--roles-per-account", "3", "--rate-limit", "20"];
    let sandbox = sandbox(bin, &emulator, "")?;
    let r = refresh_under_limit(&sandbox, 20.0)?;
    let served = r.stats.requests - r.stats.throttled;
    let ours = format!("{}, {} 429s, {}/665 accounts", secs(r.took), r.stats.throttled, r.accounts);
    let mut rows = vec![row(
        "refresh at the rate limit, 665×3, 20/s",
        ours.clone(),
        format!("≤ 110 %, none lost: {}", verdict(r.share <= 1.10 && r.accounts == 665)),
        format!("bound {} ({served} requests ÷ 20/s)", secs(r.bound)),
        format!("{:.0} % of the bound", r.share * 100.0),
    )];
    if aws_sso_util(&sandbox)? {
        step("Rate limited: the same with aws-sso-util roles (once)");
        sandbox.emulator.reset_log();
        let started = Instant::now();
        let out = aws_sso_util_roles(&sandbox).stdin(Stdio::null()).output()?;
        let theirs = started.elapsed();
        let outcome = if out.status.success() { "" } else { ", then failed" };
        let throttled = sandbox.emulator.stats().throttled;
        rows.push(row(
            "refresh at the rate limit, 665×3, 20/s",
            ours,
            format!("none lost: {}", verdict(r.accounts == 665)),
            format!(
                "aws-sso-util roles {}, {throttled} 429s, {}/665 accounts{outcome}",
                secs(theirs),
                accounts_listed(&out.stdout)
            ),
            ratio(r.took, theirs),
        ));
    }
    Ok(rows)
}

/// 200 accounts × 1 role against a service that allows 10 requests a second while we are set to
/// the default 20: the 429s met, the accounts lost (must be none) and the time beside the bound.
fn throttled_below_our_rate(bin: &Path) -> anyhow::Result<Row> {
    step("Throttled below our rate: 200 accounts, the service allows 10/s, we are set to 20/s");
    let emulator = ["--accounts", "200", "--roles-per-account", "1", "--rate-limit", "10"];
    let sandbox = sandbox(bin, &emulator, "")?;
    let r = refresh_under_limit(&sandbox, 10.0)?;
    let served = r.stats.requests - r.stats.throttled;
    Ok(row(
        "refresh when the service allows 10/s, 200×1",
        format!(
            "{}, {} 429s in {} requests, {}/200 accounts",
            secs(r.took),
            r.stats.throttled,
            r.stats.requests,
            r.accounts
        ),
        format!("none lost: {}", verdict(r.accounts == 200)),
        format!("bound {} ({served} requests ÷ 10/s)", secs(r.bound)),
        format!("{:.0} % of the bound", r.share * 100.0),
    ))
}

/// 5,000 accounts × 3 roles from the cache: time and peak memory, beside the start of the same
/// binary doing nothing (`--version`).
fn from_cache(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("From the cache: 5,000 accounts × 3 roles");
    let emulator = ["--accounts", "5000", "--roles-per-account", "3"];
    let sandbox = sandbox(bin, &emulator, "rate_limit: 0\n")?;
    let mut fill = sandbox.std_cmd("aws-sso-ls");
    fill.args(["--refresh", "-o", "ids"]);
    timed(fill).context("filling the cache")?;
    let sample = |args: &[&str]| -> anyhow::Result<Duration> {
        let mut samples = Vec::new();
        for _ in 0..15 {
            let mut cmd = sandbox.std_cmd("aws-sso-ls");
            cmd.args(args).stdout(Stdio::null());
            samples.push(timed(cmd)?.0);
        }
        Ok(median(samples))
    };
    let baseline = sample(&["--version"])?;
    let ids = sample(&["-o", "ids"])?;
    let table = sample(&[])?;
    let target = |d: Duration| format!("< 30 ms: {}", verdict(d < Duration::from_millis(30)));
    let reference = format!("aws-sso-ls --version {}", millis(baseline));
    let mut rows = vec![
        row(
            "from the cache, 5000×3, -o ids",
            millis(ids),
            target(ids),
            reference.clone(),
            ratio(ids, baseline),
        ),
        row(
            "from the cache, 5000×3, table",
            millis(table),
            target(table),
            reference,
            ratio(table, baseline),
        ),
    ];
    rows.push(peak_memory(&sandbox)?);
    Ok(rows)
}

/// 665 accounts × 3 roles, 20 ms latency, the service's 20 requests/s, nothing cached: role
/// credentials by name and by a unique part of a name (target: ≤ 1.0 s, ≤ 10 portal requests),
/// beside the full role crawl (`aws-sso-ls --refresh`) measured in the same run, then the same
/// name again from the cache.
fn first_use(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("First use: 665 accounts × 3 roles, 20 ms latency, 20 requests/s, empty cache");
    let emulator = [
        "--accounts",
        "665",
        "--roles-per-account",
        "3",
        "--latency-ms",
        "20",
        "--rate-limit",
        "20",
    ];
    let crawl = {
        let sandbox = sandbox(bin, &emulator, "")?;
        refresh_under_limit(&sandbox, 20.0)?
    };
    let crawl_requests = crawl.stats.requests;
    let mut rows = Vec::new();
    // Each case on a sandbox of its own: an empty cache every time.
    let cases = [
        ("credentials by name (account-600)", "account-600"),
        ("credentials by a unique part of a name (600)", "600"),
    ];
    for (name, account) in cases {
        let sandbox = sandbox(bin, &emulator, "")?;
        sandbox.emulator.reset_log();
        let run = || {
            let mut cmd = sandbox.std_cmd("aws-sso-env");
            cmd.args(["-f", "json", account, "AdministratorAccess"]).stdout(Stdio::null());
            timed(cmd)
        };
        let (took, _) = run()?;
        let requests = sandbox.emulator.stats().requests;
        rows.push(row(
            format!("{name}, empty cache, 665×3"),
            format!("{}, {requests} portal requests", secs(took)),
            format!(
                "≤ 1.0 s, ≤ 10 requests: {}",
                verdict(took <= Duration::from_secs(1) && requests <= 10)
            ),
            format!("full crawl {}, {crawl_requests} requests", secs(crawl.took)),
            ratio(took, crawl.took),
        ));
        if account == "account-600" {
            let cached =
                median((0..11).map(|_| run().map(|(d, _)| d)).collect::<anyhow::Result<Vec<_>>>()?);
            let (baseline, _) = timed(Command::new("/bin/true"))?;
            rows.push(row(
                "the same name again, cached",
                millis(cached),
                format!("≈ 1 ms: {}", verdict(cached < Duration::from_millis(3))),
                format!("/bin/true {}", millis(baseline)),
                ratio(cached, baseline),
            ));
        }
    }
    Ok(rows)
}

/// The picker on a pseudo-terminal: its first frame over 5,000 accounts × 3 roles cached
/// (target ≤ 50 ms, beside `aws-sso-ls` listing the same cache) and each keystroke's refilter
/// (≤ 16 ms); then on a cold cache of 665 accounts at 20 requests/s, the first frame with every
/// account (≤ 1.5 s, beside the full crawl's time measured by first-use).
fn picker(bin: &Path) -> anyhow::Result<Vec<Row>> {
    use aws_sso_tests::terminal::Terminal;
    step("Picker: 5,000 accounts × 3 roles cached; 665 accounts on a cold cache");
    let emulator = ["--accounts", "5000", "--roles-per-account", "3"];
    let warm = sandbox(bin, &emulator, "rate_limit: 0\n")?;
    let mut fill = warm.std_cmd("aws-sso-ls");
    fill.args(["-o", "ids"]);
    timed(fill).context("filling the cache")?;
    let mut frames = Vec::new();
    let mut keys = Vec::new();
    for _ in 0..7 {
        let mut cmd = warm.std_cmd("aws-sso-env");
        cmd.args(["-f", "json"]);
        let started = Instant::now();
        let mut pty = Terminal::start(cmd, true);
        pty.wait_for("15000/15000");
        frames.push(started.elapsed());
        for key in ["9", "9", "7"] {
            let mark = pty.shown_so_far();
            let started = Instant::now();
            pty.send(key.as_bytes());
            pty.wait_for_after(mark, "Esc cancel");
            keys.push(started.elapsed());
        }
        pty.send(b"\x1b");
        pty.finish();
    }
    let (frame, key) = (median(frames), median(keys));
    let mut list = warm.std_cmd("aws-sso-ls");
    list.args(["-o", "ids"]).stdout(Stdio::null());
    let listing = median(
        (0..7)
            .map(|_| timed(clone_command(&list)).map(|(d, _)| d))
            .collect::<anyhow::Result<Vec<_>>>()?,
    );
    let mut rows = vec![
        row(
            "picker first frame, 5000×3 cached",
            millis(frame),
            format!("≤ 50 ms: {}", verdict(frame <= Duration::from_millis(50))),
            format!("aws-sso-ls -o ids {}", millis(listing)),
            ratio(frame, listing),
        ),
        row(
            "picker refilter per keystroke, 5000×3",
            millis(key),
            format!("≤ 16 ms: {}", verdict(key <= Duration::from_millis(16))),
            "-".to_owned(),
            "-".to_owned(),
        ),
    ];
    let cold = [
        "--accounts",
        "665",
        "--roles-per-account",
        "3",
        "--latency-ms",
        "20",
        "--rate-limit",
        "20",
    ];
    let cold_sandbox = sandbox(bin, &cold, "")?;
    let mut cmd = cold_sandbox.std_cmd("aws-sso-env");
    cmd.args(["-f", "json"]);
    let started = Instant::now();
    let mut pty = Terminal::start(cmd, true);
    pty.wait_for("665/665");
    let first = started.elapsed();
    pty.send(b"\x1b");
    pty.finish();
    rows.push(row(
        "picker first frame, cold cache, 665 accounts, 20 req/s",
        secs(first),
        format!("≤ 1.5 s: {}", verdict(first <= Duration::from_millis(1500))),
        "full crawl ≈ 34 s (first-use group)".to_owned(),
        "-".to_owned(),
    ));
    Ok(rows)
}

/// How long `cmd` (an interactive shell) takes to run `script` fed on its stdin, its output
/// thrown away.
fn fed(mut cmd: Command, script: &str) -> anyhow::Result<Duration> {
    use std::io::Write;
    cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    child.stdin.take().context("stdin")?.write_all(script.as_bytes())?;
    child.wait()?;
    Ok(started.elapsed())
}

/// `aws-sso-env eks-token` on a cached token (target ≤ 2 ms) and signing a fresh one from cached
/// role credentials (≤ 3 ms), beside `aws eks get-token` when an AWS CLI is installed, else
/// botocore presigning GetCallerIdentity in Python.
fn eks_token(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("EKS tokens: cached, and fresh from cached role credentials");
    let sandbox = sandbox(bin, &["--accounts", "3"], "")?;
    let args = ["eks-token", "--cluster", "demo", "100000000001", "ReadOnlyAccess"];
    let run = || -> anyhow::Result<Duration> {
        let mut cmd = sandbox.std_cmd("aws-sso-env");
        cmd.args(args).stdout(Stdio::null());
        Ok(timed(cmd)?.0)
    };
    run().context("the first token")?;
    let cached = median((0..31).map(|_| run()).collect::<anyhow::Result<Vec<_>>>()?);
    let tokens = sandbox.path().join(".cache/aws-sso/eks");
    let fresh = median(
        (0..31)
            .map(|_| {
                let _ = std::fs::remove_dir_all(&tokens);
                run()
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
    );
    let reference: Option<(String, Command)> = if which_aws() {
        let mut cmd = in_sandbox(&sandbox, "aws");
        cmd.args(["eks", "get-token", "--cluster-name", "demo", "--profile", "dev"]);
        Some(("aws eks get-token".to_owned(), cmd))
    } else if has_botocore() {
        let mut cmd = Command::new("python3");
        cmd.args([
            "-c",
            "import botocore.session as s\n\
             c = s.get_session().create_client('sts', region_name='us-east-1', \
             aws_access_key_id='AKID', aws_secret_access_key='SECRET', aws_session_token='TOKEN')\n\
             c.generate_presigned_url('get_caller_identity', Params={}, ExpiresIn=60, HttpMethod='GET')",
        ]);
        Some(("botocore presigning in Python".to_owned(), cmd))
    } else {
        None
    };
    let (reference_text, reference_time) = match reference {
        Some((name, cmd)) => {
            let took = median(
                (0..5)
                    .map(|_| timed(clone_command(&cmd)).map(|(d, _)| d))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            );
            (format!("{name} {}", millis(took)), Some(took))
        }
        None => ("not measured (no AWS CLI, no botocore)".to_owned(), None),
    };
    let versus = |ours: Duration| reference_time.map_or_else(|| "-".to_owned(), |r| ratio(ours, r));
    Ok(vec![
        row(
            "eks-token, cached token",
            millis(cached),
            format!("≤ 2 ms: {}", verdict(cached <= Duration::from_millis(2))),
            reference_text.clone(),
            versus(cached),
        ),
        row(
            "eks-token, fresh from cached role credentials",
            millis(fresh),
            format!("≤ 3 ms: {}", verdict(fresh <= Duration::from_millis(3))),
            reference_text,
            versus(fresh),
        ),
    ])
}

/// Whether an AWS CLI is on PATH.
fn which_aws() -> bool {
    Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `aws-sso-env` with credentials cached: each path beside starting `/bin/true`.
fn env_fast_path(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("aws-sso-env with cached credentials");
    let sandbox = sandbox(bin, &["--accounts", "3"], "")?;
    let role = ["100000000001", "ReadOnlyAccess"];
    let mut warm = sandbox.std_cmd("aws-sso-env");
    warm.args(role);
    timed(warm).context("fetching the credentials once")?;
    let once = |cmd: &dyn Fn() -> Command| -> anyhow::Result<Duration> {
        let mut c = cmd();
        c.stdout(Stdio::null());
        Ok(timed(c)?.0)
    };
    let cases: [(&str, Vec<&str>); 4] = [
        ("aws-sso-env (env format)", vec![role[0], role[1]]),
        ("aws-sso-env --format process", vec![role[0], role[1], "--format", "process"]),
        ("aws-sso-env credential-process", vec!["credential-process", role[0], role[1]]),
        ("aws-sso-env exec -- true", vec!["exec", role[0], role[1], "--", "true"]),
    ];
    let mut rows = Vec::new();
    for (name, args) in cases {
        let (took, baseline) = interleaved(
            31,
            &|| {
                once(&|| {
                    let mut c = sandbox.std_cmd("aws-sso-env");
                    c.args(&args);
                    c
                })
            },
            &|| once(&|| Command::new("/bin/true")),
        )?;
        let (memory, memory_ok) = match peak_rss(&sandbox, "aws-sso-env", &args)? {
            Some(kb) => (format!(", peak {:.1} MB", kb as f64 / 1024.0), kb < 10 * 1024),
            None => (", peak not measured (needs GNU time)".to_owned(), true),
        };
        rows.push(row(
            format!("{name}, cached"),
            format!("{}{memory}", millis(took)),
            format!("< 3 ms, < 10 MB: {}", verdict(took < Duration::from_millis(3) && memory_ok)),
            format!("/bin/true {}", millis(baseline)),
            ratio(took, baseline),
        ));
    }
    rows.extend(credential_tools(&sandbox, role)?);
    Ok(rows)
}

/// `credential-process` beside the other tools that serve the same cached credentials: the AWS
/// CLI (or botocore) and aws-sso-util, each when installed. Each is run once first so that it
/// has its own cache warm too.
fn credential_tools(sandbox: &Sandbox, role: [&str; 2]) -> anyhow::Result<Vec<Row>> {
    let mut references: Vec<(String, Command)> = sdk_credentials(sandbox).into_iter().collect();
    if aws_sso_util(sandbox)? {
        let mut cmd = in_sandbox(sandbox, "aws-sso-util");
        cmd.args(["credential-process", "--start-url", START_URL, "--region", "us-east-1"]);
        cmd.args(["--account-id", role[0], "--role-name", role[1]]);
        references.push(("aws-sso-util credential-process".to_owned(), cmd));
    }
    let ours = || -> anyhow::Result<Duration> {
        let mut cmd = sandbox.std_cmd("aws-sso-env");
        cmd.args(["credential-process", role[0], role[1]]).stdout(Stdio::null());
        Ok(timed(cmd)?.0)
    };
    let mut rows = Vec::new();
    for (name, cmd) in &references {
        let theirs = || Ok(timed(clone_command(cmd))?.0);
        theirs().with_context(|| format!("warming {name}"))?;
        let (took, baseline) = interleaved(11, &ours, &theirs)?;
        let our_peak = peak_rss(sandbox, "aws-sso-env", &["credential-process", role[0], role[1]])?;
        rows.push(row(
            "aws-sso-env credential-process, cached",
            format!("{}{}", millis(took), peak_text(our_peak)),
            format!("faster: {}", verdict(took < baseline)),
            format!("{name} {}{}", millis(baseline), peak_text(peak_rss_of(cmd)?)),
            ratio(took, baseline),
        ));
    }
    Ok(rows)
}

/// A fresh `Command` with the program, arguments and environment of `cmd`.
fn clone_command(cmd: &Command) -> Command {
    let mut copy = Command::new(cmd.get_program());
    copy.args(cmd.get_args()).env_clear();
    copy.envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    copy
}

/// GNU time's maximum resident set size, in kB, of one run of `tool args`.
fn peak_rss(sandbox: &Sandbox, tool: &str, args: &[&str]) -> anyhow::Result<Option<u64>> {
    let mut cmd = sandbox.std_cmd(tool);
    cmd.args(args);
    peak_rss_of(&cmd)
}

/// GNU time's maximum resident set size, in kB, of one run of `cmd` (program, arguments and
/// environment); `None` without GNU time.
fn peak_rss_of(cmd: &Command) -> anyhow::Result<Option<u64>> {
    let gnu_time = Path::new("/usr/bin/time");
    if !gnu_time.is_file() {
        return Ok(None);
    }
    let mut wrapped = Command::new(gnu_time);
    wrapped.env_clear().envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    wrapped.args(["-f", "%M"]).arg(cmd.get_program()).args(cmd.get_args());
    let out = wrapped.stdin(Stdio::null()).stdout(Stdio::null()).output()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let kb = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("GNU time printed no figure: {text}"))?;
    Ok(Some(kb))
}

/// ", peak 4.5 MB", or nothing without GNU time.
fn peak_text(kb: Option<u64>) -> String {
    kb.map(|kb| format!(", peak {:.1} MB", kb as f64 / 1024.0)).unwrap_or_default()
}

/// GNU time's maximum resident set size of a listing, beside that of `--version`.
fn peak_memory(sandbox: &Sandbox) -> anyhow::Result<Row> {
    let case = "peak memory, from the cache, 5000×3";
    let (Some(listing), Some(baseline)) = (
        peak_rss(sandbox, "aws-sso-ls", &["-o", "ids"])?,
        peak_rss(sandbox, "aws-sso-ls", &["--version"])?,
    ) else {
        let none = || "-".to_owned();
        return Ok(row(case, "not measured (needs GNU time)".to_owned(), none(), none(), none()));
    };
    let mb = |kb: u64| format!("{:.1} MB", kb as f64 / 1024.0);
    Ok(row(
        case,
        mb(listing),
        format!("< 20 MB: {}", verdict(listing < 20 * 1024)),
        format!("aws-sso-ls --version {}", mb(baseline)),
        format!("{:.1}×", listing as f64 / baseline.max(1) as f64),
    ))
}

/// Tab completion with 5,000 accounts cached (target: under 20 ms), asked as bash asks: the
/// accounts of `aws-sso-env exec`, the roles after an account, and the same through `aws-sso`.
fn completion(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("Tab completion: 5,000 accounts × 3 roles cached");
    let emulator = ["--accounts", "5000", "--roles-per-account", "3"];
    let sandbox = sandbox(bin, &emulator, "rate_limit: 0\n")?;
    let mut fill = sandbox.std_cmd("aws-sso-ls");
    fill.args(["--refresh", "-o", "ids"]);
    timed(fill).context("filling the cache")?;
    let sample = |words: &[&str]| -> anyhow::Result<(Duration, usize)> {
        let mut samples = Vec::new();
        let mut count = 0;
        for _ in 0..15 {
            let mut cmd = sandbox.std_cmd(words[0]);
            cmd.env("COMPLETE", "bash")
                .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
                .env("_CLAP_IFS", "\n")
                .arg("--")
                .args(words);
            let (took, out) = timed(cmd)?;
            count = out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
            samples.push(took);
        }
        Ok((median(samples), count))
    };
    let (baseline, _) = sample(&["aws-sso-env", "--ver"])?;
    let mut rows = Vec::new();
    for (what, words) in [
        ("complete every account", &["aws-sso-env", "exec", ""][..]),
        ("complete an account prefix", &["aws-sso-env", "exec", "account-00"]),
        ("complete roles after an account", &["aws-sso-env", "exec", "account-042", ""]),
        ("complete through aws-sso", &["aws-sso", "env", "exec", "account-00"]),
    ] {
        let (took, count) = sample(words)?;
        rows.push(row(
            format!("{what}, 5000×3"),
            format!("{}, {count} candidates", millis(took)),
            format!("< 20 ms: {}", verdict(took < Duration::from_millis(20))),
            format!("completing a flag {}", millis(baseline)),
            ratio(took, baseline),
        ));
    }
    Ok(rows)
}

/// A command running `program` in the sandbox's environment (HOME, endpoints, PATH).
fn in_sandbox(sandbox: &Sandbox, program: &str) -> Command {
    let template = sandbox.std_cmd("aws-sso-env");
    let mut cmd = Command::new(program);
    cmd.env_clear().envs(template.get_envs().filter_map(|(k, v)| Some((k, v?))));
    cmd
}

/// `aws-sso use` on cached credentials, the whole shell function, in an interactive bash and
/// zsh, beside `eval "$(aws-sso-env ACCOUNT ROLE)"` (how aws-sso-cli's `eval` sets a shell) in
/// the same shell; and what an idle prompt adds while a use is in effect, beside the same shell
/// without the hook. fish is left out: its prompt runs only on a terminal (see `shell_hook`).
fn shell_use(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("aws-sso use: the shell function, and idle prompts while a use is in effect");
    let sandbox = sandbox(bin, &["--accounts", "3"], "")?;
    let mut warm = sandbox.std_cmd("aws-sso-env");
    warm.args(["100000000001", "ReadOnlyAccess"]);
    timed(warm)?;
    let env_bin = sandbox.bin_dir.join("aws-sso-env");
    const USES: usize = 200;
    const PROMPTS: usize = 2000;
    let use_line = "aws-sso use 100000000001 ReadOnlyAccess\n";
    let mut rows = Vec::new();
    for shell in ["bash", "zsh"] {
        if Command::new(shell).arg("-c").arg("true").output().is_err() {
            let none = || "-".to_owned();
            rows.push(row(
                format!("aws-sso use, {shell}"),
                format!("not measured: {shell} is not installed"),
                none(),
                none(),
                none(),
            ));
            continue;
        }
        // The median of 5 interactive sessions running `lines` after `setup`.
        let session = |setup: &str, lines: &str| -> anyhow::Result<Duration> {
            let script = format!("{setup}{lines}exit\n");
            let mut samples = Vec::new();
            for _ in 0..5 {
                let mut cmd = in_sandbox(&sandbox, shell);
                match shell {
                    "bash" => cmd.args(["--noprofile", "--norc", "-i"]),
                    _ => cmd.args(["-f", "-i"]),
                };
                cmd.current_dir(sandbox.path());
                samples.push(fed(cmd, &script)?);
            }
            Ok(median(samples))
        };
        let init = format!("eval \"$('{}' init {shell})\"\n", env_bin.display());
        let each = |total: Duration, base: Duration, count: usize| {
            Duration::from_secs_f64(
                (total.as_secs_f64() - base.as_secs_f64()).max(0.0) / count as f64,
            )
        };

        // The whole function, USES times, less the same shell running `:` USES times.
        let base = session(&init, &":\n".repeat(USES))?;
        let used = each(session(&init, &use_line.repeat(USES))?, base, USES);
        let eval_line =
            format!("eval \"$('{}' 100000000001 ReadOnlyAccess)\"\n", env_bin.display());
        let evaluated = each(session(&init, &eval_line.repeat(USES))?, base, USES);
        rows.push(row(
            format!("aws-sso use, cached, the whole function, {shell}"),
            millis(used),
            format!("< 5 ms: {}", verdict(used < Duration::from_millis(5))),
            format!("eval \"$(aws-sso-env …)\" {}", millis(evaluated)),
            ratio(used, evaluated),
        ));

        // Idle prompts with a use in effect, less the same shell without the hook.
        let bare = session("", &":\n".repeat(PROMPTS))?;
        let with_use = session(&format!("{init}{use_line}"), &":\n".repeat(PROMPTS))?;
        let added = each(with_use, bare, PROMPTS).as_secs_f64() * 1e6;
        let bare_prompt = bare.as_secs_f64() * 1e6 / PROMPTS as f64;
        rows.push(row(
            format!("idle prompt with a use in effect, {shell}"),
            format!("+{added:.1} µs per prompt"),
            format!("< 100 µs: {}", verdict(added < 100.0)),
            format!("bare {shell} {bare_prompt:.1} µs/prompt"),
            "-".to_owned(),
        ));
    }
    Ok(rows)
}

/// The shell hook: what an idle prompt adds in bash, zsh and fish (driven interactively with a few
/// thousand prompts, beside the same shell without the hook, and beside direnv's hook when
/// direnv is installed), and what one hook run costs when entering a project.
fn shell_hook(bin: &Path) -> anyhow::Result<Vec<Row>> {
    step("The shell hook: idle prompts and entering a project");
    let sandbox = sandbox(bin, &["--accounts", "3"], "")?;
    let project = sandbox.path().join("project");
    std::fs::create_dir_all(&project)?;
    std::fs::write(project.join(".aws-sso.yaml"), "account: 100000000001\nrole: ReadOnlyAccess\n")?;
    let mut allow = sandbox.std_cmd("aws-sso-env");
    allow.arg("allow").current_dir(&project);
    timed(allow)?;
    let mut warm = sandbox.std_cmd("aws-sso-env");
    warm.current_dir(&project);
    timed(warm)?;
    let env_bin = sandbox.bin_dir.join("aws-sso-env");
    let mut rows = Vec::new();

    // One hook run on entering the project, credentials cached.
    let mut samples = Vec::new();
    for _ in 0..31 {
        let mut cmd = sandbox.std_cmd("aws-sso-env");
        cmd.args(["hook", "bash"]).current_dir(&project).env("PWD", &project).stdout(Stdio::null());
        samples.push(timed(cmd)?.0);
    }
    let enter = median(samples);
    rows.push(row(
        "hook run on cd into a project, cached",
        millis(enter),
        format!("< 3 ms: {}", verdict(enter < Duration::from_millis(3))),
        "-".to_owned(),
        "-".to_owned(),
    ));

    const PROMPTS: usize = 2000;
    for shell in ["bash", "zsh", "fish"] {
        if Command::new(shell).arg("-c").arg("true").output().is_err() {
            let none = || "-".to_owned();
            rows.push(row(
                format!("idle prompt, {shell}"),
                format!("not measured: {shell} is not installed"),
                none(),
                none(),
                none(),
            ));
            continue;
        }
        let init = if shell == "fish" {
            format!("{} init fish | source\n", env_bin.display())
        } else {
            format!("eval \"$({} init {shell})\"\n", env_bin.display())
        };
        let fish_config = sandbox.path().join(".config/fish");
        let direnv =
            Command::new("direnv").arg("version").output().is_ok_and(|o| o.status.success());
        let run = |setup: &str| -> anyhow::Result<Duration> {
            // fish fires its prompt events only on a terminal: it runs under script(1), its
            // setup in config.fish.
            let mut script = if shell == "fish" {
                std::fs::create_dir_all(&fish_config)?;
                // No background man-page scan started by fish's first run in this HOME.
                std::fs::create_dir_all(sandbox.path().join(FISH_GENERATED_COMPLETIONS))?;
                let rc = format!(
                    "function fish_prompt; echo -n '$ '; end\nfunction fish_greeting; end\n{setup}"
                );
                std::fs::write(fish_config.join("config.fish"), rc)?;
                String::new()
            } else {
                String::from(setup)
            };
            script.push_str(&format!("cd '{}'\n", project.display()));
            script.push_str(&":\n".repeat(PROMPTS));
            script.push_str("exit\n");
            let mut samples = Vec::new();
            for _ in 0..5 {
                let cmd = match shell {
                    "bash" => {
                        let mut c = in_sandbox(&sandbox, shell);
                        c.args(["--noprofile", "--norc", "-i"]);
                        c
                    }
                    "zsh" => {
                        let mut c = in_sandbox(&sandbox, shell);
                        c.args(["-f", "-i"]);
                        c
                    }
                    _ => {
                        let mut c = in_sandbox(&sandbox, "script");
                        c.args(["-q", "-e", "-c", "fish -i", "/dev/null"]).env("TERM", "dumb");
                        c
                    }
                };
                samples.push(fed(cmd, &script)?);
            }
            Ok(median(samples))
        };
        let bare = run("")?;
        let hooked = run(&init)?;
        let per_prompt = |total: Duration| {
            (total.as_secs_f64() - bare.as_secs_f64()).max(0.0) * 1e6 / PROMPTS as f64
        };
        let added = per_prompt(hooked);
        let target = match shell {
            "fish" => "none (reported)".to_owned(),
            _ => format!("< 100 µs: {}", verdict(added < 100.0)),
        };
        let reference = if direnv {
            std::fs::write(project.join(".envrc"), "export AWS_SSO_BENCH=1\n")?;
            let mut allow = in_sandbox(&sandbox, "direnv");
            allow.arg("allow").current_dir(&project);
            timed(allow)?;
            let direnv_init = if shell == "fish" {
                "direnv hook fish | source\n".to_owned()
            } else {
                format!("eval \"$(direnv hook {shell})\"\n")
            };
            let with_direnv = run(&direnv_init)?;
            let theirs = per_prompt(with_direnv);
            let ratio = if added > 0.0 && added < theirs {
                format!("{:.0}× less than direnv's", theirs / added)
            } else {
                format!("{:.2}× direnv's", added / theirs.max(0.001))
            };
            (format!("direnv's hook adds {theirs:.1} µs"), ratio)
        } else {
            let bare_prompt = bare.as_secs_f64() * 1e6 / PROMPTS as f64;
            (format!("bare {shell} {bare_prompt:.1} µs/prompt (no direnv)"), "-".to_owned())
        };
        rows.push(row(
            format!("idle prompt in a project, {shell}"),
            format!("+{added:.1} µs per prompt"),
            target,
            reference.0,
            reference.1,
        ));
    }
    Ok(rows)
}
