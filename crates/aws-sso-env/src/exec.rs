//! `aws-sso-env exec [ACCOUNT [ROLE]] -- COMMAND…`: the command, with the credentials in its
//! environment and nothing of another identity left.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use aws_sso_cli::UsageError;
use aws_sso_core::credentials::REUSE_WINDOW;
use aws_sso_core::session::{Context, SessionRequest};
use aws_sso_core::{env, shell};

use crate::cli::ExecArgs;

/// Set in the child's environment; a nested `exec` refuses to run unless `--overwrite`.
pub(crate) const EXEC_MARKER: &str = "AWS_SSO_EXEC";

/// Credential and identity variables of the parent that must not reach the child: they would
/// win over, or be mixed with, the credentials we give it.
pub(crate) const REMOVED: &[&str] = &[
    env::AWS_PROFILE,
    env::AWS_DEFAULT_PROFILE,
    shell::AWS_ACCESS_KEY_ID,
    shell::AWS_SECRET_ACCESS_KEY,
    shell::AWS_SESSION_TOKEN,
    "AWS_SECURITY_TOKEN",
    shell::AWS_CREDENTIAL_EXPIRATION,
    "AWS_ACCOUNT_ID",
    shell::AWS_SSO_ACCOUNT_ID,
    shell::AWS_SSO_ACCOUNT_NAME,
    shell::AWS_SSO_ROLE_NAME,
    shell::AWS_SSO_PROFILE,
];

pub fn run(ctx: &Context, request: &SessionRequest, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    if let Some(outer) = ctx.env.non_empty(EXEC_MARKER)
        && !args.overwrite
    {
        anyhow::bail!(UsageError(format!(
            "already inside `aws-sso-env exec` for {outer}: the command would run with other credentials than the ones around it. Add --overwrite to replace them."
        )));
    }
    if args.server {
        #[cfg(unix)]
        return crate::server::run(ctx, request, args);
        #[cfg(not(unix))]
        anyhow::bail!(UsageError("--server needs Unix signals; run without it".to_owned()));
    }
    let (resolved, creds) = crate::credentials_for(ctx, request, &args.role, REUSE_WINDOW)?;
    let view = crate::view(ctx, &resolved, &creds, args.region.clone(), true);
    let Some((program, arguments)) = args.command.split_first() else {
        anyhow::bail!(UsageError("no command given after --".to_owned()));
    };
    let mut command = Command::new(program);
    command.args(arguments);
    for name in REMOVED {
        command.env_remove(name);
    }
    for (name, value) in view.exports() {
        command.env(name, value);
    }
    command.env(EXEC_MARKER, format!("{}:{}", resolved.account_id, resolved.role_name));
    Ok(replace_process(command, program))
}

/// Runs `command` in place of this process (Unix `exec`: same pid, signals reach it directly),
/// or as a child whose exit code becomes ours elsewhere. 127: not found; 126: cannot be run.
fn replace_process(mut command: Command, program: &OsString) -> ExitCode {
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => return ExitCode::from(status.code().map_or(1, |c| c as u8)),
        Err(e) => e,
    };
    cannot_run(program, &error)
}

/// The exit code, and the one error line, of a command that could not be started: 127 when it
/// is not found, 126 when it cannot be run (the shell's codes).
pub(crate) fn cannot_run(program: &OsString, error: &std::io::Error) -> ExitCode {
    let name = program.to_string_lossy();
    let (code, why) = match error.kind() {
        std::io::ErrorKind::NotFound => (127, "command not found".to_owned()),
        std::io::ErrorKind::PermissionDenied => (126, "permission denied".to_owned()),
        _ => (126, error.to_string()),
    };
    tracing::error!("cannot run {name}: {why}");
    ExitCode::from(code)
}
