//! `aws-sso-login`: argument parsing, dispatch, and the one place errors become exit codes.

mod cli;
mod configure;
mod login;
mod logout;
mod output;
mod status;

use std::io::Write;
use std::process::ExitCode;

use aws_sso_core::env::Environment;
use aws_sso_core::error::ErrorKind;
use aws_sso_core::session::{self, Context, SessionRequest};
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::{NAME, Printer};

/// The exit code of a login cut short by Ctrl-C, as shells report SIGINT.
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Environment::from_process();
    output::init_logging(cli.global.verbose, cli.global.quiet, &env);
    let printer = Printer::new(cli.global.quiet, cli.global.color, &env);
    match run(cli, env, printer) {
        Ok(code) => code,
        Err(err) => report(&err),
    }
}

fn run(cli: Cli, env: Environment, printer: Printer) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(env, cli.global.session.profile.as_deref())?;
    let request = SessionRequest {
        sso_session: cli.global.session.sso_session.clone(),
        profile: cli.global.session.profile.clone(),
        project_session: None,
    };
    match cli.command {
        Some(Command::Status(args)) => status::run(&ctx, &args, printer)?,
        Some(Command::Configure(args)) => {
            configure::run(&ctx, cli.global.session.sso_session.as_deref(), &args, printer)?
        }
        Some(Command::Logout(args)) => {
            let target = if args.all { None } else { Some(session::resolve(&ctx, &request)?) };
            runtime()?.block_on(logout::run(&ctx, target.as_ref(), printer))?;
        }
        Some(Command::Login(args)) => return login(&ctx, &request, &args, printer),
        None => return login(&ctx, &request, &cli.login, printer),
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
    runtime()?.block_on(async {
        tokio::select! {
            result = login::run(ctx, &target, args, printer) => result.map(|()| ExitCode::SUCCESS).map_err(Into::into),
            // Every cache file is replaced atomically, so stopping here leaves the old file or
            // none, never half of one.
            _ = tokio::signal::ctrl_c() => {
                printer.always(&format!("{NAME}: login cancelled; nothing was changed."));
                Ok(ExitCode::from(INTERRUPTED))
            }
        }
    })
}

/// A runtime for the commands that make network calls; `status` and `configure` never build one.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn report(err: &anyhow::Error) -> ExitCode {
    if err.chain().any(is_broken_pipe) {
        return ExitCode::SUCCESS;
    }
    let kind = if err.chain().any(|e| e.is::<output::UsageError>()) {
        ErrorKind::Usage
    } else {
        err.chain()
            .find_map(|e| e.downcast_ref::<aws_sso_core::Error>())
            .map_or(ErrorKind::Failure, aws_sso_core::Error::kind)
    };
    let top = err.to_string();
    let mut text = format!("{NAME}: error: {top}\n");
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !top.contains(&cause) {
            text.push_str(&format!("  caused by: {cause}\n"));
        }
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    ExitCode::from(u8::try_from(kind.exit_code()).unwrap_or(1))
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
