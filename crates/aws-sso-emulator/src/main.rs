//! `aws-sso-emulator`: a local AWS IAM Identity Center (SSO OIDC and the SSO portal), the console
//! federation endpoint and STS, on one loopback port, for tests, demos and offline use.
//!
//! `main` reads the flags, builds the directory and settings, binds the port, prints the base URL
//! on the first line of stdout and serves until SIGTERM or SIGINT. The services live in `oidc`,
//! `portal`, `federation` and `sts` (its signature check in `sigv4`), their memory in `state`, injected trouble in `faults`, the HTTP
//! shapes in `wire` and the routing and server in `server`. `aws-sso-emulator browse URL` is the
//! stand-in browser of the tests and the demo (`browse`); `aws-sso-emulator env` prints the shell
//! lines that point any AWS tool at a running emulator (`env`).

mod browse;
mod env;
mod faults;
mod federation;
mod oidc;
mod portal;
mod server;
mod sigv4;
mod state;
mod sts;
mod wire;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;

use crate::faults::{FailBurst, FaultSettings, Faults, RefreshFault, StsFault};
use crate::server::{Emulator, ServerOptions};
use crate::state::{
    AuthorizeDecision, DeviceApproval, Directory, Generated, NameStyle, Settings, State,
};

/// A local AWS IAM Identity Center: the SSO OIDC service (client registration, device code and
/// authorization code with PKCE, refresh tokens) and the SSO portal (accounts, roles, role
/// credentials, logout) on one loopback port, with STS AssumeRole and GetCallerIdentity for the
/// credentials it issued (SigV4-signed, in a header or a presigned URL).
///
/// Prints its base URL (http://127.0.0.1:PORT) as the first line of stdout, then one line per
/// request on stderr. Point a client at it with AWS_ENDPOINT_URL_SSO_OIDC,
/// AWS_ENDPOINT_URL_SSO and AWS_ENDPOINT_URL_STS. Test hooks: GET /_emulator/requests (the request log as JSON),
/// GET /_emulator/clients (what each client registered with), GET /_emulator/stats
/// ({"requests","throttled","failed","hung"}: portal requests, and those answered 429, answered
/// 5xx or held back), POST /_emulator/reset-log (forgets the log and the stats),
/// POST /_emulator/clear-faults (turns every injected fault off) and
/// GET or POST /_emulator/clock (?advance_ms=N moves the emulator's clock by N ms).
/// Stops on SIGTERM or SIGINT.
///
/// STS (POST or GET /, the query protocol, XML answers) takes requests signed with credentials
/// the emulator issued (the portal's, or an earlier AssumeRole's), within 15 minutes of the
/// emulator's clock, and refuses them as the service does: InvalidClientTokenId,
/// SignatureDoesNotMatch, ExpiredToken (by the emulator's clock), ValidationError, AccessDenied.
/// Every session starts from role credentials, so AssumeRole allows DurationSeconds up to 3600,
/// the limit of role chaining.
///
/// Fault schedules (--throttle-every, --fail-first, --fail-burst, --hang-first, --hang-every,
/// --endless-body-first)
/// count portal requests from 1 in the order they arrive, over all tokens, so a run is
/// repeatable. When several faults hit one request, the first of these answers it: an expired
/// token (401), throttling (429), a failure (500); a hung request is answered after its wait,
/// and an endless body replaces any of them.
///
/// `aws-sso-emulator browse URL` instead opens URL and follows its loopback redirects, like a
/// user approving in a browser, and exits 0 once the device page approved the code or the
/// client's callback got the request: put it in a script named by BROWSER to drive a login
/// without a person. `aws-sso-emulator env --url URL` prints the shell lines that point any AWS
/// tool at the emulator at URL, with such a BROWSER (see `aws-sso-emulator env --help`).
/// `aws-sso-emulator clock URL [MS]` moves the clock of the emulator at URL by MS ms and prints
/// {"offsetMs","nowMs"}.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-emulator", version, about, long_about)]
struct Args {
    /// Port to listen on, on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Also write the base URL (and a newline) to FILE once listening, replacing the file, for
    /// `aws-sso-emulator env --url-file FILE`; removed again on SIGTERM or SIGINT.
    #[arg(long, value_name = "FILE")]
    url_file: Option<PathBuf>,

    /// Do not log requests to stderr.
    #[arg(long, short)]
    quiet: bool,

    /// Number of generated accounts: ids 100000000001…, names account-001…, e-mails
    /// aws+account-001@example.com….
    #[arg(long, value_name = "N", default_value_t = 3)]
    accounts: usize,

    /// Roles in each generated account, the first M of AdministratorAccess, ReadOnlyAccess,
    /// PowerUserAccess, ViewOnlyAccess, Billing, SecurityAudit, DatabaseAdministrator,
    /// NetworkAdministrator, SystemAdministrator, DataScientist, SupportUser, DeveloperAccess.
    #[arg(long, value_name = "M", default_value_t = 2)]
    roles_per_account: usize,

    /// The first N generated accounts have no roles: ListAccounts lists them and
    /// ListAccountRoles answers an empty roleList.
    #[arg(long, value_name = "N", default_value_t = 0)]
    accounts_without_roles: usize,

    /// Names of the generated accounts: plain (account-001…) or hostile (quotes, $, backticks,
    /// semicolons, non-ASCII letters, and two accounts with one name in every eight; the same
    /// names on every run).
    #[arg(long, value_name = "STYLE", value_enum, default_value_t = NameStyle::Plain)]
    name_style: NameStyle,

    /// Accounts and roles from a JSON file instead:
    /// {"accounts":[{"accountId":"…","accountName":"…","emailAddress":"…","roles":["…"]}]}.
    /// Names may be any UTF-8 text and may repeat; roles may be empty; ids must be unique.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["accounts", "roles_per_account", "accounts_without_roles", "name_style"]
    )]
    fixture: Option<PathBuf>,

    /// Lifetime of a device code (expiresIn of StartDeviceAuthorization), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    device_code_ttl: u64,

    /// Polling interval handed out by StartDeviceAuthorization, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    interval: u64,

    /// How device codes get approved: after:N (once N polls were answered
    /// authorization_pending), deny (AccessDeniedException), never (pending until the code
    /// expires) or browser (when verificationUriComplete is opened). Opening
    /// /device?user_code=CODE approves CODE in every mode.
    #[arg(long, value_name = "MODE", default_value = "after:1", value_parser = DeviceApproval::parse)]
    device_approval: DeviceApproval,

    /// Answer the first N polls of each device code with SlowDownException.
    #[arg(long, value_name = "N", default_value_t = 0)]
    slow_down: u32,

    /// What the /authorize page decides: approve redirects with a code, deny with
    /// error=access_denied.
    #[arg(long, value_name = "DECISION", value_enum, default_value_t = AuthorizeDecision::Approve)]
    authorize: AuthorizeDecision,

    /// Lifetime of access tokens (expiresIn of CreateToken), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 28_800)]
    token_ttl: u64,

    /// Never issue refresh tokens (normally issued to clients registered with scopes).
    #[arg(long)]
    no_refresh_tokens: bool,

    /// Keep refresh tokens valid when used, and return none with the new access token.
    #[arg(long)]
    no_rotate_refresh_tokens: bool,

    /// Lifetime of client registrations (clientSecretExpiresAt), in seconds; default 90 days.
    #[arg(long, value_name = "SECONDS", default_value_t = 90 * 24 * 3600)]
    registration_ttl: u64,

    /// Answer HEAD and GET /start with a 302 to URL, as a start URL on a custom domain does
    /// (point sso_start_url at http://127.0.0.1:PORT/start to try it). Without it, /start is
    /// a plain portal page.
    #[arg(long, value_name = "URL")]
    start_redirect: Option<String>,

    /// Lifetime of role credentials from GetRoleCredentials, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    credentials_ttl: u64,

    /// Delay added to every API response, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,

    /// Portal requests allowed per second per access token: a token bucket holding N,
    /// refilled continuously at N per second. The excess gets 429 TooManyRequestsException with
    /// Retry-After: 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: Option<u32>,

    /// Answer every Nth portal request with 429 TooManyRequestsException, whatever the rate
    /// (3 is one request in three). Independent of --rate-limit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    throttle_every: Option<u32>,

    /// Answer the first N portal requests with 500 InternalServerException.
    #[arg(long, value_name = "N", default_value_t = 0)]
    fail_first: u32,

    /// Answer bursts of N consecutive portal requests with 500 InternalServerException, one
    /// burst at the end of every --fail-burst-every requests (with 3 and 10: requests 8, 9, 10,
    /// 18, 19, 20, …).
    #[arg(long, value_name = "N", requires = "fail_burst_every",
        value_parser = clap::value_parser!(u32).range(1..))]
    fail_burst: Option<u32>,

    /// The period of --fail-burst, in portal requests; more than the burst.
    #[arg(long, value_name = "M", requires = "fail_burst",
        value_parser = clap::value_parser!(u32).range(2..))]
    fail_burst_every: Option<u32>,

    /// Probability (0 to 1) that a portal request fails with 500 InternalServerException.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    fail_rate: f64,

    /// Seed of --fail-rate: the same seed fails the same requests.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Hold back the answer to the first N portal requests for --hang-ms, so a client's timeout
    /// fires.
    #[arg(long, value_name = "N", default_value_t = 0)]
    hang_first: u32,

    /// Hold back the answer to every Nth portal request for --hang-ms.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    hang_every: Option<u32>,

    /// How long --hang-first and --hang-every hold an answer back, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    hang_ms: u64,

    /// Start the emulator's clock MS milliseconds off the real one (negative: behind), for every
    /// time it hands out or checks: credentials expirations, token and device code expiries,
    /// the rate limit. POST /_emulator/clock?advance_ms=N moves it later, so a test reaches an
    /// expiry without waiting for it.
    #[arg(long, value_name = "MS", default_value_t = 0, allow_negative_numbers = true)]
    clock_offset_ms: i64,

    /// Every access token stops working after N portal requests made with it, whatever their
    /// answers: later ones get 401 UnauthorizedException, like a token expiring in the middle
    /// of a listing. A refreshed token starts counting afresh.
    #[arg(long, value_name = "N")]
    token_expires_after_requests: Option<u32>,

    /// Answer the first N portal requests 200 with a body that never ends, as a broken proxy or
    /// a hostile endpoint might, so a client's bound on what it reads is put to the test.
    #[arg(long, value_name = "N", default_value_t = 0)]
    endless_body_first: u32,

    /// Answer every refresh (OIDC CreateToken with the refresh_token grant) with KIND instead
    /// of a new token, leaving the refresh token good: 500 (InternalServerException), 429
    /// (ThrottlingException), hang (held for --hang-ms, then 500) or garbage (200 with a body
    /// that is not JSON). POST /_emulator/clear-faults turns it off.
    #[arg(long, value_name = "KIND", value_enum)]
    refresh_fault: Option<RefreshFault>,

    /// Refuse STS AssumeRole of ROLE_ARN with 403 AccessDenied, as a role whose trust policy
    /// does not name the caller; repeat for more roles. Every other well-formed role ARN, in any
    /// account, may be assumed.
    #[arg(long, value_name = "ROLE_ARN")]
    deny_assume_role: Vec<String>,

    /// Answer STS requests (AssumeRole, GetCallerIdentity) with KIND instead: 500
    /// (InternalFailure), throttle (400 Throttling, which clients retry) or hang (held for
    /// --hang-ms, then answered); all of them, or the first N with --sts-fault-first. POST
    /// /_emulator/clear-faults turns it off.
    #[arg(long, value_name = "KIND", value_enum)]
    sts_fault: Option<StsFault>,

    /// Only the first N STS requests get --sts-fault, so a client's retry succeeds; 0 is all.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "sts_fault")]
    sts_fault_first: u32,
}

impl DeviceApproval {
    fn parse(text: &str) -> Result<DeviceApproval, String> {
        text.parse()
    }
}

fn parse_probability(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("`{text}` is not a probability between 0 and 1"))
}

fn main() -> ExitCode {
    // The subcommands (the stand-in browser, the clock, the shell lines of `env`) are checked
    // before the server's flags, so they need none of them.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let print = |text: String| {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout")
    };
    let result = match argv.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["browse", url] if !url.starts_with('-') => browse::run(url),
        ["browse", ..] => Err(anyhow::anyhow!(
            "usage: aws-sso-emulator browse URL (one http:// URL on 127.0.0.1, as a login opens it)"
        )),
        ["__read-answer"] => browse::read_answer_on_stdin(),
        ["clock", url] => browse::clock(url, None).and_then(|answer| print(answer + "\n")),
        ["clock", url, advance] => {
            browse::clock(url, Some(advance)).and_then(|answer| print(answer + "\n"))
        }
        ["clock", ..] => Err(anyhow::anyhow!("usage: aws-sso-emulator clock URL [MS]")),
        ["env", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            env::run(&rest).and_then(print)
        }
        _ => run(Args::parse()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "aws-sso-emulator: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn directory(args: &Args) -> anyhow::Result<Directory> {
    match &args.fixture {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the fixture {}", path.display()))?;
            Directory::from_fixture(&text).map_err(|error| {
                anyhow::anyhow!("the fixture {} is not valid: {error}", path.display())
            })
        }
        None => Directory::generate_with(Generated {
            accounts: args.accounts,
            roles_per_account: args.roles_per_account,
            without_roles: args.accounts_without_roles,
            name_style: args.name_style,
        })
        .map_err(anyhow::Error::msg),
    }
}

fn fail_burst(args: &Args) -> anyhow::Result<Option<FailBurst>> {
    match (args.fail_burst, args.fail_burst_every) {
        (Some(size), Some(every)) if size < every => Ok(Some(FailBurst { size, every })),
        (Some(size), Some(every)) => bail!(
            "--fail-burst ({size}) must be less than --fail-burst-every ({every}), or every request fails; use --fail-rate 1 for that"
        ),
        // clap makes each of the two flags require the other.
        _ => Ok(None),
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let directory = directory(&args)?;
    if args.device_code_ttl == 0 {
        bail!("--device-code-ttl must be at least 1 second");
    }
    let fail_burst = fail_burst(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
        let port = listener.local_addr().context("cannot read the bound address")?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let settings = Settings {
            base_url: base_url.clone(),
            device_code_ttl: args.device_code_ttl,
            interval: args.interval,
            device_approval: args.device_approval,
            slow_down: args.slow_down,
            authorize: args.authorize,
            token_ttl: args.token_ttl,
            refresh_tokens: !args.no_refresh_tokens,
            rotate_refresh_tokens: !args.no_rotate_refresh_tokens,
            registration_ttl: args.registration_ttl,
            credentials_ttl: args.credentials_ttl,
            start_redirect: args.start_redirect.clone(),
            deny_assume_role: args.deny_assume_role.clone(),
        };
        let faults = Faults::new(FaultSettings {
            rate_limit: args.rate_limit,
            throttle_every: args.throttle_every,
            fail_first: args.fail_first,
            fail_burst,
            fail_rate: args.fail_rate,
            seed: args.seed,
            hang_first: args.hang_first,
            hang_every: args.hang_every,
            hang: Duration::from_millis(args.hang_ms),
            token_expires_after_requests: args.token_expires_after_requests,
            endless_first: args.endless_body_first,
            refresh_fault: args.refresh_fault,
            sts_fault: args.sts_fault,
            sts_fault_first: args.sts_fault_first,
        });
        let mut emulator = Emulator::new(State::new(settings, directory), faults);
        emulator.clock_offset_ms = args.clock_offset_ms;

        // Installed before the URL is printed: whoever read the URL may stop us at once.
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot handle SIGTERM")?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{base_url}")
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout")?;
        drop(stdout);
        if let Some(file) = &args.url_file {
            write_url_file(file, &base_url)?;
        }

        let options =
            ServerOptions { quiet: args.quiet, latency: Duration::from_millis(args.latency_ms) };
        server::serve(listener, terminate, emulator, options).await;
        if let Some(file) = &args.url_file
            && std::fs::read_to_string(file).is_ok_and(|text| text.trim() == base_url)
        {
            let _ = std::fs::remove_file(file);
        }
        Ok(())
    })
}

/// Writes `url` to `file` whole (through a temporary file renamed over it), so a reader never
/// sees half of it.
fn write_url_file(file: &std::path::Path, url: &str) -> anyhow::Result<()> {
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, format!("{url}\n"))
        .and_then(|()| std::fs::rename(&temporary, file))
        .map_err(|error| {
            let _ = std::fs::remove_file(&temporary);
            anyhow::anyhow!("cannot write the URL to --url-file {}: {error}", file.display())
        })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    fn parse(flags: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("aws-sso-emulator").chain(flags.iter().copied()))
    }

    #[test]
    fn the_flags_are_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn fault_flags_parse_with_their_defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!((args.throttle_every, args.hang_every, args.hang_first), (None, None, 0));
        assert_eq!(args.hang_ms, 30_000);
        assert_eq!(args.token_expires_after_requests, None);
        assert_eq!((args.accounts_without_roles, args.name_style), (0, NameStyle::Plain));
        let args = parse(&[
            "--throttle-every=3",
            "--hang-every=5",
            "--hang-first=1",
            "--hang-ms=250",
            "--token-expires-after-requests=7",
            "--accounts-without-roles=2",
            "--name-style=hostile",
        ])
        .unwrap();
        assert_eq!((args.throttle_every, args.hang_every, args.hang_first), (Some(3), Some(5), 1));
        assert_eq!((args.hang_ms, args.token_expires_after_requests), (250, Some(7)));
        assert_eq!((args.accounts_without_roles, args.name_style), (2, NameStyle::Hostile));
        assert!(parse(&["--throttle-every=0"]).is_err());
        assert!(parse(&["--fixture=f.json", "--name-style=hostile"]).is_err());
        assert!(parse(&["--fixture=f.json", "--accounts-without-roles=1"]).is_err());
    }

    #[test]
    fn a_fail_burst_needs_a_longer_period() {
        let burst = parse(&["--fail-burst=3", "--fail-burst-every=10"]).unwrap();
        assert_eq!(fail_burst(&burst).unwrap(), Some(FailBurst { size: 3, every: 10 }));
        assert_eq!(fail_burst(&parse(&[]).unwrap()).unwrap(), None);
        let whole = parse(&["--fail-burst=10", "--fail-burst-every=10"]).unwrap();
        assert!(fail_burst(&whole).unwrap_err().to_string().contains("--fail-rate 1"));
        assert!(parse(&["--fail-burst=3"]).is_err(), "--fail-burst alone");
        assert!(parse(&["--fail-burst-every=3"]).is_err(), "--fail-burst-every alone");
    }
}
