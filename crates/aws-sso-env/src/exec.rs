//! `aws-sso-env exec [ACCOUNT [ROLE]] -- COMMAND…`: the command, with the credentials in its
//! environment and nothing of another identity left.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use aws_sso_cli::UsageError;
use aws_sso_core::credentials::REUSE_WINDOW;
use aws_sso_core::session::{Context, SessionRequest};
use aws_sso_core::shell::CommandLine;

use crate::child::{self, EXEC_MARKER};
use crate::cli::ExecArgs;

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
    let (mut command, program) = child::command(args, &resolved)?;
    for (name, value) in view.exports() {
        command.env(name, value);
    }
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
    child::cannot_run(program, &error)
}

/// When `error` is clap's "unexpected argument" for a word after `exec ACCOUNT ROLE` (the command
/// to run, typed without the `--` before it), what to say: the command line again, with `--`
/// where it belongs, quoted for a POSIX shell. `None` for any other mistake, or when the line
/// with `--` would still not parse.
pub fn forgotten_separator(error: &clap::Error, args: &[OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(unexpected)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let words: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    let exec = words.iter().skip(1).position(|w| *w == "exec")? + 1;
    if words[exec + 1..].contains(&"--") {
        return None;
    }
    let at = exec + 1 + words[exec + 1..].iter().position(|w| w == unexpected)?;
    let mut fixed: Vec<OsString> = args.to_vec();
    fixed.insert(at, OsString::from("--"));
    <crate::cli::Cli as clap::Parser>::try_parse_from(&fixed).ok()?;
    let line = words[1..at]
        .iter()
        .fold(CommandLine::new(crate::NAME), |line, word| line.arg(word))
        .literal("--");
    let line = words[at..].iter().fold(line, |line, word| line.arg(word));
    Some(format!(
        "unexpected argument '{unexpected}' found: the command to run goes after `--`. Run:\n  {line}"
    ))
}
