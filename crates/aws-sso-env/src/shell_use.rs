//! `aws-sso-env use --shell SHELL ACCOUNT [ROLE]` and `aws-sso-env use --shell SHELL --clear`
//! (hidden): the shell code the `aws-sso` shell function of `init` evaluates for `aws-sso use`.
//!
//! It resolves the account and role as `aws-sso-env ACCOUNT ROLE` does (network allowed, the
//! picker at a terminal when nothing is named, errors and a non-zero exit like any command), records the choice in the hook's state
//! (`hook::Used`) and runs the hook once, in this process, so the shell gets the credentials and
//! the bookkeeping in one evaluation. From then on the hook keeps them fresh, in every directory.
//! Stdout carries shell code only, and only on success: help, errors and messages go to stderr.

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use aws_sso_cli::UsageError;
use aws_sso_core::credentials::REUSE_WINDOW;
use aws_sso_core::env::Environment;
use aws_sso_core::hook::{self as core_hook, Used};
use aws_sso_core::resolve;
use aws_sso_core::session::Context;
use aws_sso_core::shell::printable;
use clap::Parser as _;

use crate::NAME;
use crate::cli::{Cli, Command, UseArgs};
use crate::hook;

/// Parses and runs `aws-sso-env use …`. Help goes to stderr: the shell evaluates stdout.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            let _ = write!(std::io::stderr().lock(), "{}", error.render().ansi());
            return ExitCode::SUCCESS;
        }
        Err(error) => aws_sso_cli::shown::exit_on_error(&error, aws_sso_env::command(), &argv),
    };
    let Some(Command::Use(args)) = &cli.command else {
        return aws_sso_cli::finish(NAME, Err(anyhow::anyhow!("not a `use` command line")));
    };
    let (env, _printer) = cli.global.start(NAME);
    aws_sso_cli::finish(NAME, run(&cli, args, env))
}

pub fn run(cli: &Cli, args: &UseArgs, env: Environment) -> anyhow::Result<ExitCode> {
    let Some(shell) = args.shell else {
        return Err(UsageError(
            "`aws-sso use` changes the shell it runs in, so the shell itself runs it: add \
             `eval \"$(aws-sso-env init bash)\"` to ~/.bashrc (or init zsh in ~/.zshrc, or \
             `aws-sso-env init fish | source` in config.fish), open a new shell, then run \
             `aws-sso use ACCOUNT [ROLE]`"
                .to_owned(),
        )
        .into());
    };
    if args.role.assume_role.is_some() {
        return Err(UsageError(
            "`aws-sso use` keeps an Identity Center role for the shell and does not assume              another one: run `aws-sso-env exec --assume-role ARN -- COMMAND`, or put              `assume_role:` in the project's .aws-sso.yaml"
                .to_owned(),
        )
        .into());
    }
    let mut input = hook::input_from(&env);
    if args.clear {
        let cleared = input.state.used.take();
        if cleared.is_none() {
            tell("no account is in use in this shell; nothing to clear");
        }
        hook::write(&hook::decide(shell, env, input));
        if let Some(used) = cleared {
            tell(&format!("this shell no longer uses {}", used.label()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(name) = input.credentials_of_the_users_own() {
        return Err(UsageError(format!(
            "this shell has credentials of its own ({name}), which aws-sso leaves alone; unset \
             AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN first"
        ))
        .into());
    }
    let ctx = Context::load(
        core_hook::resolution_env(&env, &input.state),
        cli.global.session.profile.as_deref(),
    )?;
    let request = cli.global.session.request();
    let (resolved, _) = crate::credentials_for(&ctx, &request, &args.role, REUSE_WINDOW)?;
    let used = Used {
        account_name: resolve::account_name(&ctx, &resolved),
        account_id: resolved.account_id,
        role_name: resolved.role_name,
        region: resolved.region,
        sso_session: resolved.session.session_name,
        profile: resolved.session.profile,
    };
    input.state.used = Some(used.clone());
    let output = hook::decide_in(ctx, shell, input);
    let active = output.state.account_id.as_deref() == Some(used.account_id.as_str())
        && output.state.role_name.as_deref() == Some(used.role_name.as_str());
    if !active {
        // The hook said why; the shell keeps what it had.
        hook::write(&core_hook::HookOutput { stdout: String::new(), ..output });
        return Ok(ExitCode::FAILURE);
    }
    hook::write(&output);
    tell(&format!(
        "this shell uses {} in every directory, kept fresh, until `aws-sso use --clear`",
        used.label()
    ));
    Ok(ExitCode::SUCCESS)
}

/// One line on stderr, as the hook's messages are.
fn tell(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "aws-sso: {}", printable(message));
}
