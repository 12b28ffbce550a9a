//! `aws-sso-ls --write-profiles`: one `[profile]` per account and role, in a marked block of
//! `~/.aws/config` that later runs update.

use aws_sso_cli::Printer;
use aws_sso_core::cache::accounts::AccountCache;
use aws_sso_core::config::managed::{
    DEFAULT_TEMPLATE, Prune, apply_profile_block, diff, plan_profile_block, plan_profiles,
};
use aws_sso_core::session::{Context, SessionTarget};

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
    let template = cli
        .template
        .as_deref()
        .or(ctx.settings.profile_template.as_deref())
        .unwrap_or(DEFAULT_TEMPLATE);
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
    let profiles = plan_profiles(rows, template, &cli.prefix);
    let prune = cli.prune.then_some(Prune { template, prefix: &cli.prefix });
    let path = &ctx.files.config;
    // A dry run only reads; a write plans again under the file's lock, from the file as it is then.
    let (plan, backup) = if cli.dry_run {
        (plan_profile_block(path, session, &target.region, &profiles, prune)?, None)
    } else {
        apply_profile_block(&ctx.env, path, session, &target.region, &profiles, prune)?
    };
    let edit = &plan.edit;
    for name in &edit.conflicts {
        tracing::warn!(
            "[profile {name}] is already defined outside the generated block; it was left as it is"
        );
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
