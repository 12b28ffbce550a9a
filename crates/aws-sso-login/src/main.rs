//! `aws-sso-login`: argument parsing, dispatch, and the one place errors become exit codes.

use aws_sso_login::cli;
mod configure;
mod login;
mod logout;
mod status;

use std::process::ExitCode;

use aws_sso_core::env::Environment;
use aws_sso_core::resolve;
use aws_sso_core::session::{self, Context, SessionRequest};

use crate::cli::{Cli, Command};
use aws_sso_cli::Printer;

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
        Some(Command::Status(args)) => status::run(&ctx, &args, printer)?,
        Some(Command::Configure(args)) => {
            configure::run(&ctx, cli.global.session.sso_session.as_deref(), &args, printer)?
        }
        Some(Command::Logout(args)) => {
            let target = if args.all { None } else { Some(session::resolve(&ctx, &request())?) };
            aws_sso_cli::runtime()?.block_on(logout::run(&ctx, target.as_ref(), printer))?;
        }
        Some(Command::Login(args)) => return login(&ctx, &request(), &args, printer),
        None => return login(&ctx, &request(), &cli.login, printer),
    }
    Ok(ExitCode::SUCCESS)
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

/// Touches the marker the shell hooks watch (docs/ARCHITECTURE.md §6), so every open shell
/// re-reads its state at the next prompt after a login or a logout. A failure only delays that.
fn tell_shell_hooks(env: &Environment) {
    if let Err(e) = aws_sso_core::hook::marker::touch(env) {
        tracing::debug!("could not touch the shell hook marker: {e}");
    }
}
