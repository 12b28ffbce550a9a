//! `aws-sso-env console [ACCOUNT [ROLE]]`: the AWS console, signed in as the role, in the
//! browser, or its sign-in link on stdout with `--print`; with `--portal`, the access portal's
//! shortcut link to it instead, which needs neither credentials nor the network.

use std::process::ExitCode;

use aws_sso_cli::Printer;
use aws_sso_core::browser::Browser;
use aws_sso_core::console::{self, ConsoleRequest};
use aws_sso_core::credentials::CREDENTIAL_PROCESS_WINDOW;
use aws_sso_core::http::{HttpClient, HttpSettings};
use aws_sso_core::resolve::{self, Fetch, Resolution, ResolveError, ResolvedRole, RoleChoice};
use aws_sso_core::session::{Context, SessionRequest};

use crate::cli::ConsoleArgs;

pub fn run(
    ctx: &Context,
    request: &SessionRequest,
    args: &ConsoleArgs,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    if args.portal {
        return portal(ctx, request, args, printer);
    }
    // The console session ends with the credentials: take ones with a quarter hour left at least.
    let (resolved, creds) =
        crate::credentials_for(ctx, request, &args.role, CREDENTIAL_PROCESS_WINDOW)?;
    let region = args.region.clone().or_else(|| resolved.region.clone());
    let console_request = ConsoleRequest {
        region: region.as_deref(),
        fallback_region: &resolved.session.region,
        destination: args.destination.as_ref(),
        session_duration: None,
    };
    let profile = resolved.session.profile.as_deref().unwrap_or("default");
    let ca_bundle = ctx.config.profile(profile).and_then(|p| p.get("ca_bundle"));
    let http = HttpClient::new(HttpSettings::from_env(&ctx.env).with_profile_ca_bundle(ca_bundle));
    let url = aws_sso_cli::runtime()?.block_on(console::signin_url(
        &http,
        &ctx.env,
        &creds,
        &console_request,
    ))?;
    if args.print {
        printer.data(&format!("{}\n", url.expose()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let who = format!("{} {}", resolved.final_account_id(), resolved.final_role_name());
    open(ctx, url.expose(), &who, "aws-sso-env console --print")?;
    printer.message(&format!("Opened the AWS console for {who} in the browser."));
    Ok(ExitCode::SUCCESS)
}

/// `--portal`: the access portal's shortcut link. It carries a destination only when the
/// command line asks for a page or a region, so that without one the permission set's relay
/// state (or the console home) applies as it does from the portal itself.
fn portal(
    ctx: &Context,
    request: &SessionRequest,
    args: &ConsoleArgs,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    let resolved = resolve_from_caches(ctx, request, args)?;
    let destination = if args.destination.is_some() || args.region.is_some() {
        let region = args.region.clone().or_else(|| resolved.region.clone());
        let landing = ConsoleRequest {
            region: region.as_deref(),
            fallback_region: &resolved.session.region,
            destination: args.destination.as_ref(),
            session_duration: None,
        };
        Some(console::destination(&landing)?)
    } else {
        None
    };
    let link = console::portal_link(
        &resolved.session.start_url,
        &resolved.session.display_name(),
        &resolved.account_id,
        &resolved.role_name,
        destination.as_deref(),
    )?;
    if args.print {
        printer.data(&format!("{link}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let who = format!("{} {}", resolved.account_id, resolved.role_name);
    open(ctx, &link, &who, "aws-sso-env console --portal --print")?;
    printer.message(&format!("Opened the access portal's console link for {who} in the browser."));
    Ok(ExitCode::SUCCESS)
}

/// The account and role from the command line, the project file or the profile, with names
/// looked up in the account list cache only: `--portal` makes no request.
fn resolve_from_caches(
    ctx: &Context,
    request: &SessionRequest,
    args: &ConsoleArgs,
) -> anyhow::Result<ResolvedRole> {
    let choice = RoleChoice {
        account: args.role.account.clone(),
        role: args.role.role.clone(),
        assume_role: args.role.assume_role.clone(),
    };
    let (project, request) = match choice.account {
        None => (resolve::project_in_current_dir(ctx)?, request.clone()),
        Some(_) => (None, resolve::in_current_project(ctx, request.clone())),
    };
    let uncached = |session: &str| {
        anyhow::anyhow!(
            "the account list cache of {session} cannot resolve the account and role, and \
             --portal makes no request to fetch it; give the account id and the role name, or \
             run aws-sso-ls first to fill the cache"
        )
    };
    match resolve::resolve_role_with(ctx, &request, &choice, project.as_ref(), Fetch::CacheOnly) {
        Ok(Resolution::Resolved(resolved)) => Ok(resolved),
        Ok(Resolution::NeedsAccounts(need)) => Err(uncached(&need.target.display_name())),
        Err(aws_sso_core::Error::Resolve(ResolveError::AccountListUnreadable {
            session, ..
        })) => Err(uncached(&session)),
        Err(e) => Err(e.into()),
    }
}

/// Opens `url` in the configured browser; `print` is the command that prints it instead.
fn open(ctx: &Context, url: &str, who: &str, print: &str) -> anyhow::Result<()> {
    let Some(browser) = Browser::configured(&ctx.settings, &ctx.env) else {
        anyhow::bail!(
            "$BROWSER names no command, so the console for {who} cannot be opened; run `{print}` and open the link yourself"
        );
    };
    let opened = match browser.start_command(url) {
        Ok(true) => Ok(()),
        Ok(false) => webbrowser::open(url).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Err(e) = opened {
        anyhow::bail!(
            "could not open a browser for the console of {who}: {e}. Run `{print}` and open the link yourself"
        );
    }
    Ok(())
}
