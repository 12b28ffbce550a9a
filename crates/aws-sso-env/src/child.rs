//! The command `aws-sso-env exec` runs, plain or with `--server`: what of our environment it
//! keeps, what marks it, and how a command that cannot start is reported.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use aws_sso_cli::UsageError;
use aws_sso_core::resolve::ResolvedRole;
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

/// `COMMAND…` after `--`, without the parent's identity variables and marked with the role it
/// runs as; the caller gives it the credentials. Also returns the program, for messages.
pub(crate) fn command<'a>(
    args: &'a ExecArgs,
    resolved: &ResolvedRole,
) -> anyhow::Result<(Command, &'a OsString)> {
    let Some((program, arguments)) = args.command.split_first() else {
        anyhow::bail!(UsageError("no command given after --".to_owned()));
    };
    let mut command = Command::new(program);
    command.args(arguments);
    for name in REMOVED {
        command.env_remove(name);
    }
    command.env(
        EXEC_MARKER,
        format!("{}:{}", resolved.final_account_id(), resolved.final_role_name()),
    );
    Ok((command, program))
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
