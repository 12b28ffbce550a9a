//! `aws-sso-login [login]`: one session, or every session with `--all`. The flow itself and
//! what the user sees meanwhile are `aws_sso_cli::login`'s, shared with the commands that offer a
//! login when they need one.

use std::time::Duration;

use aws_sso_cli::Printer;
use aws_sso_cli::login::{LoginChoice, until};
use aws_sso_core::session::{self, Context, LoginOutcome, SessionError, SessionTarget, TokenState};
use jiff::Timestamp;

use crate::cli::LoginArgs;

pub fn choice(args: &LoginArgs) -> LoginChoice {
    LoginChoice {
        use_device_code: args.use_device_code,
        no_browser: args.no_browser,
        force: args.force,
        browser_timeout: Duration::from_secs(args.browser_timeout),
        device_code_command: None,
    }
}

pub async fn run(
    ctx: &Context,
    target: &SessionTarget,
    args: &LoginArgs,
    printer: Printer,
) -> aws_sso_core::Result<()> {
    let outcome = aws_sso_cli::login::login(ctx, target, &choice(args), printer).await?;
    aws_sso_cli::login::report(ctx, target, &outcome, printer);
    Ok(())
}

/// `--all`: every configured session in turn, one browser window at a time, then a summary.
/// Fails (exit 1) when any session failed, after trying every one.
pub async fn run_all(ctx: &Context, args: &LoginArgs, printer: Printer) -> anyhow::Result<()> {
    let targets = session::configured_targets(ctx);
    if targets.is_empty() {
        return Err(aws_sso_core::Error::from(SessionError::NoneConfigured {
            config: ctx.files.config.clone(),
        })
        .into());
    }
    let choice = choice(args);
    let mut results = Vec::with_capacity(targets.len());
    for (i, target) in targets.iter().enumerate() {
        if needs_the_network(ctx, target, args.force) {
            printer.message(&format!(
                "[{}/{}] Logging in to {} ({}).",
                i + 1,
                targets.len(),
                target.display_name(),
                target.start_url
            ));
        }
        let outcome = aws_sso_cli::login::login(ctx, target, &choice, printer).await;
        results.push(outcome);
    }
    let names: Vec<String> = targets.iter().map(SessionTarget::display_name).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut summary = String::from("Summary:");
    let mut failed = Vec::new();
    for ((target, name), result) in targets.iter().zip(&names).zip(&results) {
        let line = match result {
            Ok(LoginOutcome::AlreadyValid { expires_at }) => {
                format!("already logged in, valid until {}", until(*expires_at))
            }
            Ok(LoginOutcome::Refreshed { expires_at }) => {
                format!("refreshed, valid until {}", until(*expires_at))
            }
            Ok(LoginOutcome::LoggedIn { expires_at, region_updated }) => {
                let region = region_updated
                    .as_ref()
                    .map(|r| format!("; sso_region set to {r} in {}", ctx.files.config.display()))
                    .unwrap_or_default();
                format!("logged in, valid until {}{region}", until(*expires_at))
            }
            Err(e) => {
                failed.push(name.clone());
                let selector = target.selector();
                format!(
                    "failed: {}\n{:width$}    (try it alone: aws-sso-login{}{selector})",
                    one_line(e),
                    "",
                    if selector.is_empty() { "" } else { " " },
                )
            }
        };
        summary.push_str(&format!("\n  {name:width$}  {line}"));
    }
    printer.always(&aws_sso_core::shell::printable(&summary));
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "could not log in to {} of {} sessions ({}); the summary above says why",
        failed.len(),
        targets.len(),
        failed.join(", ")
    )
}

/// Whether a login of `target` will refresh or open a browser, rather than find the login good.
fn needs_the_network(ctx: &Context, target: &SessionTarget, force: bool) -> bool {
    force
        || !matches!(session::read_token(ctx, target), TokenState::Present(token)
            if token.remaining(Timestamp::now()) > session::REFRESH_WINDOW)
}

/// An error and its causes on one line, for a line of the summary.
fn one_line(e: &aws_sso_core::Error) -> String {
    let mut text = e.to_string();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        next = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
