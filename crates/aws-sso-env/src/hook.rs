//! `aws-sso-env hook <bash|zsh|fish>` (hidden): one run of the shell hook (docs/ARCHITECTURE.md §6).
//!
//! The shell runs it only when something may have changed, and it runs on a prompt, so it is
//! started before clap parses anything, reads only the files it needs, and builds a runtime and
//! an HTTP client only when role credentials must be fetched. Whatever happens it prints shell
//! code only on stdout, one-line messages on stderr, and exits 0.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use aws_sso_core::cache::role_credentials::RoleCredentials;
use aws_sso_core::credentials::{self, REUSE_WINDOW, RoleRequest};
use aws_sso_core::env::Environment;
use aws_sso_core::hook::{self, FetchError, HookInput, HookOutput};
use aws_sso_core::http::HttpSettings;
use aws_sso_core::session::Context;
use aws_sso_core::shell::Shell;

/// `Some` when the command line is exactly `hook <shell>`: then the hook has run. Anything
/// else is left to clap, which explains what is wrong.
pub fn fast_path(mut args: impl Iterator<Item = OsString>) -> Option<ExitCode> {
    args.next()?; // the program
    if args.next()? != "hook" {
        return None;
    }
    let shell: Shell = args.next()?.to_str()?.parse().ok()?;
    if args.next().is_some() {
        return None;
    }
    Some(run(shell))
}

/// One run, and its output written once.
pub fn run(shell: Shell) -> ExitCode {
    let env = Environment::from_process();
    // Quiet unless AWS_SSO_LOG asks: the hook's stderr is the user's prompt.
    aws_sso_cli::init_logging(crate::NAME, 0, true, &env);
    let output = decide(shell, env);
    // A closed stdout or stderr leaves nothing to tell: the exit code stays 0 either way.
    let _ = std::io::stdout().lock().write_all(output.stdout.as_bytes());
    let mut stderr = std::io::stderr().lock();
    for message in &output.messages {
        let _ = writeln!(stderr, "{message}");
    }
    ExitCode::SUCCESS
}

fn decide(shell: Shell, env: Environment) -> HookOutput {
    let cwd = env.current_dir().map_or_else(|| PathBuf::from("/"), PathBuf::from);
    let input = HookInput::from_env(&env, cwd);
    let timeout = hook::timeout(&env);
    let ctx = match Context::load(hook::resolution_env(&env, &input.state), None) {
        Ok(ctx) => ctx.with_http_settings(|settings| bounded(settings, timeout)),
        Err(e) => return hook::fail_closed(&env, shell, input, e),
    };
    hook::run_hook(&ctx, shell, input, |request| fetch(&ctx, request, timeout))
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
    request: &RoleRequest<'_>,
    timeout: Duration,
) -> Result<RoleCredentials, FetchError> {
    let runtime = aws_sso_cli::runtime()
        .map_err(|e| FetchError::NotStarted(std::io::Error::other(e.to_string())))?;
    let result = runtime.block_on(async {
        tokio::time::timeout(timeout, credentials::fetch(ctx, request, REUSE_WINDOW)).await
    });
    // A name lookup still running on the blocking pool must not hold the prompt.
    runtime.shutdown_background();
    match result {
        Ok(Ok(credentials)) => Ok(credentials),
        Ok(Err(e)) => Err(FetchError::Failed(e)),
        Err(_) => Err(FetchError::TimedOut(timeout)),
    }
}
