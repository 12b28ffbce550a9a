//! `aws-sso-ls --write-profiles`: one `[profile]` per account and role, in a marked block of
//! `~/.aws/config` that later runs update.

use std::path::Path;

use aws_sso_cli::Printer;
use aws_sso_core::cache::accounts::AccountCache;
use aws_sso_core::config::managed::{
    DEFAULT_TEMPLATE, Prune, apply_profile_block, diff, plan_profile_block, plan_profiles,
    render_profile_block, template_for_session,
};
use aws_sso_core::config::settings::Settings;
use aws_sso_core::session::{Context, SessionTarget};
use aws_sso_core::shell::CommandLine;

use crate::cli::Cli;

pub fn write(
    ctx: &Context,
    target: &SessionTarget,
    cache: &AccountCache,
    cli: &Cli,
    printer: Printer,
) -> anyhow::Result<()> {
    let Some(session) = target.session_name.as_deref() else {
        anyhow::bail!(aws_sso_cli::UsageError(format!(
            "--write-profiles needs an [sso-session]; {} is a legacy profile with sso_start_url. Move its start URL and region into an [sso-session] (aws-sso-login configure) first",
            target.display_name()
        )));
    };
    if cli.prune && !cli.filter.is_empty() {
        anyhow::bail!(aws_sso_cli::UsageError(
            "--prune with a FILTER would remove every generated profile the filter leaves out; write the filtered profiles without --prune, or prune without a filter".to_owned()
        ));
    }
    let (template, from) = match (&cli.template, &ctx.settings.profile_template) {
        (Some(template), _) => (template.as_str(), "--template".to_owned()),
        (None, Some(template)) => (template.as_str(), settings_name(ctx)),
        (None, None) => (DEFAULT_TEMPLATE, String::new()),
    };
    let template = template_for_session(template, session)
        .map_err(|e| aws_sso_cli::UsageError(format!("{from}: {e} Nothing was written.")))?;
    let template = template.as_str();
    let region =
        cli.region.as_deref().or(ctx.settings.profile_region.as_deref()).unwrap_or(&target.region);
    // The rows of the listing, grouped by account: what is listed is what is written.
    let mut rows: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for (account, role) in cache.rows(&cli.filter) {
        if role.is_empty() {
            continue;
        }
        match rows.last_mut() {
            Some((id, _, roles)) if *id == account.account_id => roles.push(role),
            _ => rows.push((&account.account_id, &account.account_name, vec![role])),
        }
    }
    let profiles = plan_profiles(rows.iter().cloned(), template, &cli.prefix);
    let prune = cli.prune.then_some(Prune { template, prefix: &cli.prefix });
    let path = &ctx.files.config;
    // A dry run only reads; a write plans again under the file's lock, from the file as it is then.
    let (plan, backup) = if cli.dry_run {
        (plan_profile_block(path, session, region, &profiles, prune)?, None)
    } else {
        apply_profile_block(&ctx.env, path, session, region, &profiles, prune)?
    };
    let edit = &plan.edit;
    if !edit.conflicts.is_empty() {
        let retry = Retry { rows: &rows, template, session, region, old_text: &plan.old_text };
        tracing::warn!("{}", clash_message(&edit.conflicts, path, &retry, &cli.prefix));
    }
    if cli.dry_run {
        printer.data(&diff(&plan.old_text, &plan.new_text))?;
        return Ok(());
    }
    let mut stale = if edit.kept_stale.is_empty() {
        String::new()
    } else {
        format!(
            "; {} kept whose account or role is gone (--prune removes them)",
            edit.kept_stale.len()
        )
    };
    if !edit.other_names.is_empty() {
        stale.push_str(&format!(
            "; {} kept that another --prefix or template wrote (prune them with that --prefix)",
            edit.other_names.len()
        ));
    }
    if !plan.changes_file() && edit.unchanged.is_empty() && !edit.conflicts.is_empty() {
        printer.message(&format!(
            "Nothing was written to {}: every profile's name is taken (see above).",
            path.display()
        ));
        return Ok(());
    }
    if !plan.changes_file() {
        printer.message(&format!(
            "The {} profiles for sso-session {session} in {} are up to date{stale}.",
            edit.unchanged.len(),
            path.display()
        ));
        return Ok(());
    }
    if let Some(backup) = backup {
        printer.message(&format!("Saved a copy of the previous file as {}.", backup.display()));
    }
    printer.message(&format!(
        "Profiles for sso-session {session} in {}: {} added, {} updated, {} unchanged, {} removed{stale}.",
        path.display(),
        edit.added.len(),
        edit.updated.len(),
        edit.unchanged.len(),
        edit.removed.len(),
    ));
    Ok(())
}

/// How messages name config.yaml: its path, `config.yaml` when it has none.
fn settings_name(ctx: &Context) -> String {
    Settings::path(&ctx.env)
        .map_or_else(|| "config.yaml".to_owned(), |p| format!("{} (profile_template)", p.display()))
}

/// What a run with another `--prefix` would plan, to find one that clashes with nothing.
struct Retry<'a> {
    rows: &'a [(&'a str, &'a str, Vec<&'a str>)],
    template: &'a str,
    session: &'a str,
    region: &'a str,
    old_text: &'a str,
}

impl Retry<'_> {
    /// `true` when every profile named with `prefix` would be written.
    fn clashes_with_nothing(&self, prefix: &str) -> bool {
        let profiles = plan_profiles(self.rows.iter().cloned(), self.template, prefix);
        render_profile_block(self.old_text, self.session, self.region, &profiles, None)
            .is_ok_and(|(_, edit)| edit.conflicts.is_empty())
    }
}

/// One warning for every profile left unwritten because a profile of that name is defined
/// outside the block: which ones (a few, and how many more), and the `--prefix` that avoids
/// them all, when one of the usual ones does.
fn clash_message(conflicts: &[String], path: &Path, retry: &Retry<'_>, prefix: &str) -> String {
    let names: Vec<String> = conflicts.iter().map(|n| format!("[profile {n}]")).collect();
    let (what, them) = match conflicts.len() {
        1 => ("1 profile was not written: it is".to_owned(), "it"),
        n => (format!("{n} profiles were not written: they are"), "them"),
    };
    let mut text = format!(
        "{what} already defined in {} outside the generated block, and yours are left as they are: {}.",
        path.display(),
        aws_sso_core::names::bounded(&names),
    );
    let candidates = [format!("{prefix}{}-", retry.session), format!("{prefix}sso-")];
    match candidates.iter().find(|p| retry.clashes_with_nothing(p)) {
        Some(better) => text.push_str(&format!(
            " To write {them} under other names, run the command again with {}",
            CommandLine::new("--prefix").arg(better)
        )),
        None => text.push_str(&format!(
            " To write {them}, run the command again with another --prefix or --template."
        )),
    }
    text
}
