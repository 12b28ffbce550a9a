//! The project file in effect, and `allow` / `deny`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_sso_cli::{Printer, UsageError};
use aws_sso_core::config::project::{
    PROJECT_FILE_NAME, ProjectFile, find_project_file, load_project_file,
};
use aws_sso_core::hook::marker;
use aws_sso_core::resolve::ResolveError;
use aws_sso_core::session::Context;
use aws_sso_core::shell::printable;
use aws_sso_core::trust;

/// The project file `path` names (a file, or a directory holding one), else the nearest.
fn project_path(ctx: &Context, path: Option<&Path>) -> anyhow::Result<PathBuf> {
    match path {
        Some(p) if p.is_dir() => Ok(p.join(PROJECT_FILE_NAME)),
        Some(p) => Ok(p.to_path_buf()),
        None => {
            let cwd = ctx.env.current_dir().ok_or(ResolveError::NoCurrentDir)?;
            find_project_file(cwd).ok_or_else(|| {
                UsageError(format!(
                    "no {PROJECT_FILE_NAME} in {} or any directory above it; name one: aws-sso-env allow PATH",
                    cwd.display()
                ))
                .into()
            })
        }
    }
}

pub fn allow(ctx: &Context, path: Option<&Path>, printer: Printer) -> anyhow::Result<ExitCode> {
    let path = project_path(ctx, path)?;
    trust::check_ownership(&path)?;
    let file: ProjectFile = load_project_file(&path)?;
    let account_id = aws_sso_core::resolve::account_id_to_pin(ctx, &file);
    trust::allow(&ctx.env, &file, account_id.as_deref())?;
    marker::touch(&ctx.env)?;
    let role = file.role.as_deref().unwrap_or("its only role");
    let account = match &account_id {
        Some(id) if *id != file.account => format!("{} = {id}", file.account),
        _ => file.account.clone(),
    };
    printer.message(&printable(&format!(
        "Allowed {} (account {account}, {role}). It is used until it changes; `aws-sso-env deny` stops that.",
        file.path.display(),
    )));
    Ok(ExitCode::SUCCESS)
}

pub fn deny(ctx: &Context, path: Option<&Path>, printer: Printer) -> anyhow::Result<ExitCode> {
    let path = project_path(ctx, path)?;
    let was = trust::deny(&ctx.env, &path)?;
    marker::touch(&ctx.env)?;
    printer.message(&printable(&if was {
        format!("Denied {}: it is no longer used.", path.display())
    } else {
        format!("{} was not allowed; nothing changed.", path.display())
    }));
    Ok(ExitCode::SUCCESS)
}
