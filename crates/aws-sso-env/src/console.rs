//! `aws-sso-env console [ACCOUNT [ROLE]]`: the AWS console, signed in as the role, in the
//! browser, or its sign-in link on stdout with `--print`.

use std::process::ExitCode;

use aws_sso_cli::Printer;
use aws_sso_core::browser::Browser;
use aws_sso_core::console::{self, ConsoleRequest};
use aws_sso_core::credentials::CREDENTIAL_PROCESS_WINDOW;
use aws_sso_core::http::{HttpClient, HttpSettings};
use aws_sso_core::session::{Context, SessionRequest};

use crate::cli::ConsoleArgs;

pub fn run(
    ctx: &Context,
    request: &SessionRequest,
    args: &ConsoleArgs,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    // The console session ends with the credentials: take ones with a quarter hour left at least.
    let (resolved, creds) =
        crate::credentials_for(ctx, request, &args.role, CREDENTIAL_PROCESS_WINDOW)?;
    let region = args.region.clone().or_else(|| resolved.region.clone());
    let console_request = ConsoleRequest {
        credentials: &creds,
        region: region.as_deref(),
        fallback_region: &resolved.session.region,
        destination: args.destination.as_deref(),
        session_duration: None,
    };
    let profile = resolved.session.profile.as_deref().unwrap_or("default");
    let ca_bundle = ctx.config.profile(profile).and_then(|p| p.get("ca_bundle"));
    let http = HttpClient::new(HttpSettings::from_env(&ctx.env).with_profile_ca_bundle(ca_bundle));
    let url =
        aws_sso_cli::runtime()?.block_on(console::signin_url(&http, &ctx.env, &console_request))?;
    if args.print {
        printer.data(&format!("{}\n", url.expose()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let who = format!("{} {}", resolved.account_id, resolved.role_name);
    let Some(browser) = Browser::configured(&ctx.settings, &ctx.env) else {
        anyhow::bail!(
            "$BROWSER names no command, so the console for {who} cannot be opened; run `aws-sso-env console --print` and open the link yourself"
        );
    };
    let opened = match browser.start_command(url.expose()) {
        Ok(true) => Ok(()),
        Ok(false) => webbrowser::open(url.expose()).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Err(e) = opened {
        anyhow::bail!(
            "could not open a browser for the console of {who}: {e}. Run `aws-sso-env console --print` and open the link yourself"
        );
    }
    printer.message(&format!("Opened the AWS console for {who} in the browser."));
    Ok(ExitCode::SUCCESS)
}
