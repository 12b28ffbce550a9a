//! `aws-sso-env hook <bash|zsh|fish>` (hidden): one run of the shell hook (docs/ARCHITECTURE.md §6).
//!
//! The shell runs it only when something may have changed, and it runs on a prompt, so it is
//! started before clap parses anything, reads only the files it needs, and builds a runtime and
//! an HTTP client only when role credentials must be fetched. Whatever happens it prints shell
//! code only on stdout, one-line messages on stderr, and exits 0.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sso_core::cache::locks::account_fetch_lock_path;
use aws_sso_core::cache::role_credentials::RoleCredentials;
use aws_sso_core::credentials::REUSE_WINDOW;
use aws_sso_core::env::Environment;
use aws_sso_core::hook::{self, FetchError, HookInput, HookOutput};
use aws_sso_core::http::HttpSettings;
use aws_sso_core::lock::FileLock;
use aws_sso_core::resolve::{self, AccountsNeed, ResolvedRole};
use aws_sso_core::session::{self, AccountsRequest, Context, SessionRequest, SessionTarget};
use aws_sso_core::shell::Shell;

/// `Some` when the command line is exactly `hook <shell>`: then the hook has run; or exactly
/// `hook-accounts session|profile NAME`, which the hook starts to finish an account index that
/// took longer than a prompt may wait. Anything else is left to clap, which explains what is
/// wrong.
pub fn fast_path(mut args: impl Iterator<Item = OsString>) -> Option<ExitCode> {
    args.next()?; // the program
    let command = args.next()?;
    if command == BACKGROUND_COMMAND {
        let kind = args.next()?.into_string().ok()?;
        let name = args.next()?.into_string().ok()?;
        if args.next().is_some() {
            return None;
        }
        let request = match kind.as_str() {
            "session" => SessionRequest { sso_session: Some(name), ..SessionRequest::default() },
            "profile" => SessionRequest { profile: Some(name), ..SessionRequest::default() },
            _ => return None,
        };
        return Some(background_index(&request));
    }
    if command != "hook" {
        return None;
    }
    let shell: Shell = args.next()?.to_str()?.parse().ok()?;
    if args.next().is_some() {
        return None;
    }
    Some(run(shell))
}

/// The hidden command the hook starts in the background.
const BACKGROUND_COMMAND: &str = "hook-accounts";

/// The least a fetch after a slow first one is given, so that it can at least try.
const LEAST_TIME: Duration = Duration::from_millis(250);

/// One run, and its output written once.
pub fn run(shell: Shell) -> ExitCode {
    let env = Environment::from_process();
    // Quiet unless AWS_SSO_LOG asks: the hook's stderr is the user's prompt.
    aws_sso_cli::init_logging(crate::NAME, 0, true, &env);
    let input = input_from(&env);
    let output = decide(shell, env, input);
    write(&output);
    ExitCode::SUCCESS
}

/// What the shell handed this run.
pub fn input_from(env: &Environment) -> HookInput {
    let cwd = env.current_dir().map_or_else(|| PathBuf::from("/"), PathBuf::from);
    HookInput::from_env(env, cwd)
}

/// The shell code on stdout (written once), the messages on stderr. A closed stdout or stderr
/// leaves nothing to tell.
pub fn write(output: &HookOutput) {
    let _ = std::io::stdout().lock().write_all(output.stdout.as_bytes());
    let mut stderr = std::io::stderr().lock();
    for message in &output.messages {
        let _ = writeln!(stderr, "{message}");
    }
}

/// One run of the hook from `input`.
pub fn decide(shell: Shell, env: Environment, input: HookInput) -> HookOutput {
    // Lenient: a bad value in config.yaml is a warning, not a prompt without credentials.
    match Context::load_lenient(hook::resolution_env(&env, &input.state), None) {
        Ok(ctx) => decide_in(ctx, shell, input),
        Err(e) => hook::fail_closed(&env, shell, input, e),
    }
}

/// One run of the hook from `input`, with the configuration already read (as `aws-sso use`
/// has, right after resolving).
pub fn decide_in(ctx: Context, shell: Shell, input: HookInput) -> HookOutput {
    let timeout = hook::timeout(&ctx.env);
    let ctx = ctx.with_http_settings(|settings| bounded(settings, timeout));
    // One bound for the whole run: the account index, one account's roles and the credentials.
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now()).max(LEAST_TIME);
    let mut output = hook::run_hook(
        &ctx,
        shell,
        input,
        |need| fetch_accounts(&ctx, need, left()),
        |resolved| fetch(&ctx, resolved, left()),
    );
    // The hook's log is quiet: what is wrong with config.yaml is told on the prompt instead.
    let warnings = ctx.settings_warnings.iter().map(|w| format!("aws-sso: warning: {w}"));
    output.messages.splice(0..0, warnings);
    output
}

/// What the account cache lacks for the project file's name, within `timeout`. Only one process
/// fetches an account index at a time: while another does (a shell's hook, or the background
/// fetch below), this prompt does not wait. An index that takes longer than `timeout` (many
/// thousands of accounts) goes on in a process of its own, which touches the hook's marker when
/// it is done, so every shell's next prompt picks the credentials up.
fn fetch_accounts(ctx: &Context, need: &AccountsNeed, timeout: Duration) -> Result<(), FetchError> {
    let lock_path = index_fetch_lock(ctx, need);
    let lock = match FileLock::try_acquire(&lock_path) {
        Ok(Some(lock)) => Some(lock),
        Ok(None) => return Err(FetchError::Busy),
        // A lock that cannot be created (read-only home) does not stop this fetch.
        Err(_) => None,
    };
    let runtime = aws_sso_cli::runtime()
        .map_err(|e| FetchError::NotStarted(std::io::Error::other(e.to_string())))?;
    let result = runtime.block_on(async {
        tokio::time::timeout(
            timeout,
            session::accounts(ctx, &need.target, need.request.clone(), &mut ()),
        )
        .await
    });
    runtime.shutdown_background();
    match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(FetchError::Failed(e)),
        Err(_) => {
            drop(lock);
            if !need.is_roles_only() {
                start_background_index(&need.target);
            }
            Err(FetchError::TimedOut(timeout))
        }
    }
}

/// The lock held while an account index of `need`'s session is fetched for the hook.
fn index_fetch_lock(ctx: &Context, need: &AccountsNeed) -> PathBuf {
    account_fetch_lock_path(&ctx.env, need.target.token_identifier())
}

/// Starts `aws-sso-env hook-accounts …` detached (its own process group, no terminal, no
/// output), to finish the index this prompt could not wait for.
fn start_background_index(target: &SessionTarget) {
    let (kind, name) = match (&target.session_name, &target.profile) {
        (Some(name), _) => ("session", name),
        (None, Some(profile)) => ("profile", profile),
        (None, None) => return,
    };
    let Ok(program) = std::env::current_exe() else { return };
    let started = std::process::Command::new(program)
        .args([BACKGROUND_COMMAND, kind, name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match started {
        Ok(_) => {
            tracing::debug!("hook: fetching the account index of {kind} {name} in the background")
        }
        Err(e) => tracing::debug!("hook: could not start the background fetch: {e}"),
    }
}

/// `aws-sso-env hook-accounts session|profile NAME`: the account index of that session, fetched
/// with the usual retries under the hook's fetch lock, then the marker touched. Silent: nobody
/// reads its output.
fn background_index(request: &SessionRequest) -> ExitCode {
    let env = Environment::from_process();
    let Ok(ctx) = Context::load_lenient(env, request.profile.as_deref()) else {
        return ExitCode::FAILURE;
    };
    let Ok(target) = session::resolve(&ctx, request) else { return ExitCode::FAILURE };
    let need = AccountsNeed { target, request: AccountsRequest::default(), account: String::new() };
    let Ok(Some(_lock)) = FileLock::try_acquire(&index_fetch_lock(&ctx, &need)) else {
        // Another process is at it already.
        return ExitCode::SUCCESS;
    };
    let Ok(runtime) = aws_sso_cli::runtime() else { return ExitCode::FAILURE };
    let fetched = runtime.block_on(session::accounts(&ctx, &need.target, need.request, &mut ()));
    match fetched {
        Ok(_) => {
            let _ = hook::marker::touch(&ctx.env);
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::FAILURE,
    }
}

/// One attempt, within the hook's bound: a prompt must not wait for retries.
fn bounded(settings: HttpSettings, timeout: Duration) -> HttpSettings {
    HttpSettings {
        timeout,
        connect_timeout: timeout.min(settings.connect_timeout),
        max_attempts: 1,
        max_throttled_attempts: 1,
        ..settings
    }
}

/// GetRoleCredentials (after a token refresh when one is due), the lock wait included, bounded
/// by `timeout` as a whole.
fn fetch(
    ctx: &Context,
    resolved: &ResolvedRole,
    timeout: Duration,
) -> Result<RoleCredentials, FetchError> {
    let runtime = aws_sso_cli::runtime()
        .map_err(|e| FetchError::NotStarted(std::io::Error::other(e.to_string())))?;
    let result = runtime.block_on(async {
        tokio::time::timeout(timeout, resolve::fetch_credentials(ctx, resolved, REUSE_WINDOW)).await
    });
    // A name lookup still running on the blocking pool must not hold the prompt.
    runtime.shutdown_background();
    match result {
        Ok(Ok(credentials)) => Ok(credentials),
        Ok(Err(e)) => Err(FetchError::Failed(e)),
        Err(_) => Err(FetchError::TimedOut(timeout)),
    }
}
