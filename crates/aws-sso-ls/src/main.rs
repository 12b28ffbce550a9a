//! `aws-sso-ls`: every account and role of a session, from the account cache or the portal.

use aws_sso_ls::cli;
mod profiles;
mod progress;
mod render;

use std::process::ExitCode;

use aws_sso_cli::Printer;
use aws_sso_core::cache::accounts::AccountCache;
use aws_sso_core::env::Environment;
use aws_sso_core::resolve;
use aws_sso_core::session::{self, AccountsRequest, AccountsSource, Context, RolesWanted};
use aws_sso_core::time::format_cli;

use aws_sso_cli::login::Offer;

use crate::cli::{Cli, OutputFormat};
use crate::render::{Row, View};

/// The name in every message.
const NAME: &str = "aws-sso-ls";

fn main() -> ExitCode {
    aws_sso_cli::complete::run_if_requested(aws_sso_ls::command);
    let cli: Cli = aws_sso_cli::parse();
    let (env, printer) = cli.global.start(NAME);
    // What programs read (JSON, CSV, ids) never waits on a question.
    let offer = match cli.output {
        OutputFormat::Table => Offer::AtTerminal,
        _ => Offer::Never,
    };
    let profile = cli.global.session.profile.as_deref();
    let result = aws_sso_cli::login::login_when_needed(NAME, &env, profile, printer, offer, || {
        run(&cli, env.clone(), printer)
    });
    aws_sso_cli::finish(NAME, result)
}

fn run(cli: &Cli, env: Environment, printer: Printer) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(env, cli.global.session.profile.as_deref())?;
    let request = resolve::in_current_project(&ctx, cli.global.session.request());
    let target = session::resolve(&ctx, &request)?;
    // Only what is shown is fetched: the index alone for --accounts, and with a FILTER that
    // names accounts, only their roles.
    let roles = match (cli.accounts, cli.filter.is_empty()) {
        (true, _) => RolesWanted::None,
        (false, true) => RolesWanted::All,
        (false, false) => RolesWanted::Matching(cli.filter.clone()),
    };
    let accounts_request =
        AccountsRequest { refresh_index: cli.refresh, refresh_roles: cli.refresh, roles };
    let mut progress = progress::Progress::new(printer);
    let accounts = aws_sso_cli::runtime()?.block_on(session::accounts(
        &ctx,
        &target,
        accounts_request,
        &mut progress,
    ))?;
    progress.finish();

    if let Some(problem) = &accounts.login_problem {
        let age = match accounts.source {
            AccountsSource::StaleCache => "an out-of-date cache",
            _ => "the cache",
        };
        tracing::warn!("{problem}\n  Listing {age} of {}.", format_cli(accounts.cache.fetched_at));
    }
    if accounts.source == AccountsSource::Fetched && accounts.throttled > 0 {
        tracing::info!(
            "{} portal requests, {} answered 429 (throttled) and retried",
            accounts.requests,
            accounts.throttled
        );
    }

    if cli.write_profiles {
        profiles::write(&ctx, &target, &accounts.cache, cli, printer)?;
    } else {
        let rows = rows(&accounts.cache, &cli.filter, cli.accounts);
        let view = View { format: cli.output, accounts_only: cli.accounts, wide: cli.wide };
        printer.data(&render::render(&rows, &view, printer)?)?;
        if rows.is_empty() && !cli.filter.is_empty() {
            tracing::warn!(
                "no account or role matches {:?}; `aws-sso-ls --refresh` fetches the list again",
                cli.filter.join(" ")
            );
        }
    }

    if accounts.failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let errors: Vec<String> = accounts.failed.iter().map(|f| f.error.to_string()).collect();
    let same_reason = errors.windows(2).all(|pair| pair[0] == pair[1]);
    let lines: Vec<String> = accounts
        .failed
        .iter()
        .zip(&errors)
        .map(|(f, error)| {
            let label = format!("{} ({})", f.account_name, f.account_id);
            if same_reason { label } else { format!("{label}: {error}") }
        })
        .collect();
    let because = match (same_reason, errors.first()) {
        (true, Some(error)) => format!("\n  because: {error}"),
        _ => String::new(),
    };
    let mut shown: Vec<String> =
        lines.iter().take(aws_sso_core::names::MAX_LISTED).cloned().collect();
    if lines.len() > shown.len() {
        shown.push(format!("and {} more", lines.len() - shown.len()));
    }
    tracing::error!(
        "the roles of {} account{} could not be fetched; their previously cached roles, if any, are listed:\n  {}{because}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        shown.join("\n  ")
    );
    Ok(ExitCode::FAILURE)
}

/// The rows to show, in the cache's order (account name, id, role). An account without any
/// role is a row of its own, so it never silently disappears.
fn rows<'a>(cache: &'a AccountCache, filter: &[String], accounts_only: bool) -> Vec<Row<'a>> {
    if accounts_only {
        return cache
            .accounts_matching(filter)
            .into_iter()
            .map(|account| Row { account, role: None })
            .collect();
    }
    cache
        .rows(filter)
        .into_iter()
        .map(|(account, role)| Row { account, role: (!role.is_empty()).then_some(role) })
        .collect()
}
