//! `aws-sso-login`: argument parsing, dispatch, and the one place errors become exit codes.

use aws_sso_login::cli;
mod configure;
mod login;
mod logout;
mod status;

use std::process::ExitCode;

use aws_sso_cli::{Printer, SessionArgs, UsageError};
use aws_sso_core::env::Environment;
use aws_sso_core::resolve;
use aws_sso_core::session::{self, Context, SessionRequest};
use aws_sso_core::shell::CommandLine;

use crate::cli::{Cli, Command};

/// The name in every message.
const NAME: &str = "aws-sso-login";

fn main() -> ExitCode {
    aws_sso_cli::complete::run_if_requested(aws_sso_login::command);
    let cli: Cli = aws_sso_cli::parse();
    let (env, printer) = cli.global.start(NAME);
    aws_sso_cli::finish(NAME, run(cli, env, printer))
}

fn run(cli: Cli, env: Environment, printer: Printer) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(env, cli.global.session.profile.as_deref())?;
    // Only logging in and out act on one session; status and configure name theirs.
    let request = || resolve::in_current_project(&ctx, cli.global.session.request());
    match cli.command {
        Some(Command::Status(args)) => {
            // Only the flags (and AWS_SSO_SESSION) narrow it, not the project file or AWS_PROFILE.
            let flags = &cli.global.session;
            let only = if flags.sso_session.is_some() || flags.profile.is_some() {
                Some(session::resolve(&ctx, &flags.request())?)
            } else {
                None
            };
            status::run(&ctx, only.as_ref(), &args, printer)?
        }
        Some(Command::Configure(args)) => {
            configure::run(&ctx, cli.global.session.sso_session.as_deref(), &args, printer)?
        }
        Some(Command::Logout(args)) => {
            let target = if args.all { None } else { Some(session::resolve(&ctx, &request())?) };
            aws_sso_cli::runtime()?.block_on(logout::run(&ctx, target.as_ref(), printer))?;
        }
        Some(Command::Login(args)) if args.all => {
            return login_all(&ctx, &cli.global.session, &args, printer);
        }
        Some(Command::Login(args)) => return login(&ctx, &request(), &args, printer),
        None if cli.login.all => return login_all(&ctx, &cli.global.session, &cli.login, printer),
        None => return login(&ctx, &request(), &cli.login, printer),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--all`: every session. A session named on the command line contradicts it; one that only
/// comes from AWS_SSO_SESSION is the shell's default and is left aside.
fn login_all(
    ctx: &Context,
    flags: &SessionArgs,
    args: &cli::LoginArgs,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    let from_env = flags.sso_session.is_some()
        && flags.sso_session.as_deref() == ctx.env.non_empty(aws_sso_core::env::AWS_SSO_SESSION);
    let named = match (&flags.sso_session, &flags.profile) {
        (_, Some(profile)) => Some(CommandLine::new("--profile").arg(profile).to_string()),
        (Some(name), None) if !from_env => {
            Some(CommandLine::new("--sso-session").arg(name).to_string())
        }
        _ => None,
    };
    if let Some(named) = named {
        anyhow::bail!(UsageError(format!(
            "--all logs in to every session, so {named} cannot be given with it. Run `aws-sso-login --all` for every session, or `aws-sso-login {named}` for that one."
        )));
    }
    aws_sso_cli::runtime()?.block_on(async {
        tokio::select! {
            result = login::run_all(ctx, args, printer) => result.map(|()| ExitCode::SUCCESS),
            _ = tokio::signal::ctrl_c() => {
                printer.always(&format!("{NAME}: login cancelled; the sessions logged in so far stay logged in."));
                Ok(ExitCode::from(aws_sso_cli::INTERRUPTED))
            }
        }
    })
}

fn login(
    ctx: &Context,
    request: &SessionRequest,
    args: &cli::LoginArgs,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    let target = session::resolve(ctx, request)?;
    aws_sso_cli::runtime()?.block_on(async {
        tokio::select! {
            result = login::run(ctx, &target, args, printer) => result.map(|()| ExitCode::SUCCESS).map_err(Into::into),
            // Every cache file is replaced atomically, so stopping here leaves the old file or
            // none, never half of one.
            _ = tokio::signal::ctrl_c() => {
                printer.always(&format!("{NAME}: login cancelled; nothing was changed."));
                Ok(ExitCode::from(aws_sso_cli::INTERRUPTED))
            }
        }
    })
}

/// Touches the marker the shell hooks watch (docs/ARCHITECTURE.md §6).
fn tell_shell_hooks(env: &Environment) {
    aws_sso_cli::login::tell_shell_hooks(env);
}
