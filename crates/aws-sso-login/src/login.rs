//! `aws-sso-login [login]`: the browser or device-code flow, and what the user sees meanwhile.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_sso_core::browser::Browser;
use aws_sso_core::config::settings::LoginFlow;
use aws_sso_core::oidc::LoginPrompt;
use aws_sso_core::session::{self, Context, LoginOptions, LoginOutcome, SessionTarget, TokenState};
use aws_sso_core::time::{format_cli, format_remaining};
use jiff::Timestamp;

use crate::cli::LoginArgs;
use aws_sso_cli::Printer;

pub async fn run(
    ctx: &Context,
    target: &SessionTarget,
    args: &LoginArgs,
    printer: Printer,
) -> aws_sso_core::Result<()> {
    let flow = if args.use_device_code {
        LoginFlow::DeviceCode
    } else {
        session::default_login_flow(ctx, target)
    };
    let options = LoginOptions {
        flow,
        force: args.force,
        browser_timeout: Duration::from_secs(args.browser_timeout),
    };
    let browser = if args.no_browser { None } else { Browser::configured(&ctx.settings, &ctx.env) };
    let mut prompt = TerminalPrompt { printer, browser, spinner: None };
    let outcome = session::login(ctx, target, &options, &mut prompt).await;
    prompt.stop_spinner();
    if !matches!(outcome, Ok(LoginOutcome::AlreadyValid { .. })) {
        // A new or refreshed token (or a login that failed after writing one).
        crate::tell_shell_hooks(&ctx.env);
    }
    let name = target.display_name();
    let outcome = outcome?;
    match &outcome {
        LoginOutcome::AlreadyValid { expires_at } => printer.message(&format!(
            "Already logged in to {name}; the login is valid until {}. Use --force to log in again.",
            until(*expires_at)
        )),
        LoginOutcome::Refreshed { expires_at } => printer.message(&format!(
            "Refreshed the login to {name}; it is valid until {}.",
            until(*expires_at)
        )),
        LoginOutcome::LoggedIn { expires_at, region_updated } => {
            printer.message(&format!(
                "Logged in to {name} ({}); the login is valid until {}.",
                target.start_url,
                until(*expires_at)
            ));
            let config = ctx.files.config.display();
            match region_updated {
                Some(region) if target.region.is_empty() => printer.message(&format!(
                    "The start URL leads to a portal in {region}: sso_region set in {config}."
                )),
                Some(region) => printer.message(&format!(
                    "The start URL leads to a portal in {region}, not {}: sso_region updated in {config}.",
                    target.region
                )),
                None => {}
            }
        }
    }
    // A new login starts the session over; an old one may be near its end.
    if !matches!(outcome, LoginOutcome::LoggedIn { .. })
        && let Some(line) = ending_warning(ctx, target, Timestamp::now())
    {
        printer.message(&line);
    }
    Ok(())
}

/// The line that says the session ends within its `warn_before` of config.yaml. The end is
/// when refreshing stops working (the registration's expiry), or the token's expiry when it
/// cannot be refreshed.
fn ending_warning(ctx: &Context, target: &SessionTarget, now: Timestamp) -> Option<String> {
    let before = ctx.settings.warn_before_for(target.session_name.as_deref()?)?;
    let TokenState::Present(token) = session::read_token(ctx, target) else { return None };
    let ends_at = token.session_ends_at(now);
    let left = ends_at.duration_since(now);
    (left < before).then(|| {
        let selector = target.selector();
        let command = if selector.is_empty() {
            "aws-sso-login --force".to_owned()
        } else {
            format!("aws-sso-login --force {selector}")
        };
        format!(
            "the session {} ends in {}; log in again before then: {command}",
            target.display_name(),
            format_remaining(left)
        )
    })
}

fn until(expires_at: Timestamp) -> String {
    let left = expires_at.duration_since(Timestamp::now());
    format!("{} (in {})", format_cli(expires_at), format_remaining(left))
}

/// Opens `url` with the user's browser command, or the platform's opener.
fn open_url(browser: &Browser, url: &str) -> Result<(), String> {
    if browser.start_command(url)? {
        return Ok(());
    }
    webbrowser::open(url).map_err(|e| e.to_string())
}

struct TerminalPrompt {
    printer: Printer,
    browser: Option<Browser>,
    spinner: Option<Spinner>,
}

impl TerminalPrompt {
    fn open(&mut self, url: &str) {
        if let Some(browser) = &self.browser
            && let Err(e) = open_url(browser, url)
        {
            tracing::info!("could not open a browser: {e}");
        }
        self.spinner = Spinner::start("Waiting for the login to be approved in the browser");
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.stop();
        }
    }
}

impl LoginPrompt for TerminalPrompt {
    fn show_device_code(
        &mut self,
        verification_uri: &str,
        user_code: &str,
        verification_uri_complete: Option<&str>,
    ) {
        let opening = if self.browser.is_some() {
            "Attempting to open your default browser.\nIf the browser does not open or you wish to use a different device to authorize this request, open the following URL:"
        } else {
            "Open the following URL on any device:"
        };
        self.printer.always(&format!(
            "{opening}\n\n{verification_uri}\n\nThen enter the code:\n\n{user_code}\n"
        ));
        if let Some(complete) = verification_uri_complete {
            if self.browser.is_none() {
                self.printer.always(&format!(
                    "Alternatively, open this URL, which fills in the code:\n{complete}\n"
                ));
            }
            self.open(complete);
        } else {
            self.open(verification_uri);
        }
    }

    fn show_authorize_url(&mut self, url: &str) {
        let opening = if self.browser.is_some() {
            "Attempting to open your default browser. If the browser does not open, open the following URL.\nIf you are unable to open the URL on this device, run this command again with the '--use-device-code' option."
        } else {
            "Open the following URL in a browser on this machine (the login redirects to a listener on 127.0.0.1).\nTo approve on another device instead, run this command again with the '--use-device-code' option."
        };
        self.printer.always(&format!("{opening}\n\n{url}\n"));
        self.open(url);
    }
}

/// A spinner on stderr while we wait, only when stderr is a terminal.
struct Spinner {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Spinner {
    fn start(label: &'static str) -> Option<Spinner> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0;
            while !flag.load(Ordering::Relaxed) {
                let _ = write!(std::io::stderr(), "\r{} {label}…", frames[i % frames.len()]);
                let _ = std::io::stderr().flush();
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            let _ = std::io::stderr().flush();
        });
        Some(Spinner { stop, thread })
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}
