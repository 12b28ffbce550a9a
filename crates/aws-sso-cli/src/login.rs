//! Logging in at a terminal: the flow `aws-sso-login` runs, with what the person sees meanwhile
//! (the URL or code, a spinner, the outcome), and the offer every other command makes when it
//! needs a login it does not have (docs/ARCHITECTURE.md §7, "Login when needed", and §10 a).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_sso_core::browser::Browser;
use aws_sso_core::config::settings::{AutoLogin, LoginFlow};
use aws_sso_core::env::Environment;
use aws_sso_core::oidc::LoginPrompt;
use aws_sso_core::session::{self, Context, LoginOptions, LoginOutcome, SessionTarget, TokenState};
use aws_sso_core::time::{format_cli, format_remaining};
use jiff::Timestamp;

use crate::{INTERRUPTED, Printer};

/// How to log in: what `aws-sso-login`'s flags say, or the defaults.
#[derive(Clone, Debug)]
pub struct LoginChoice {
    /// The device-code flow, whatever the session's default.
    pub use_device_code: bool,
    /// Print the URL (and code) only; open no browser.
    pub no_browser: bool,
    /// Log in again even when the cached login is valid.
    pub force: bool,
    /// How long the browser flow waits for the redirect.
    pub browser_timeout: Duration,
    /// The command that logs in with a device code instead, when it is not this one again with
    /// `--use-device-code` (a login offered by another command).
    pub device_code_command: Option<String>,
}

impl Default for LoginChoice {
    fn default() -> Self {
        Self {
            use_device_code: false,
            no_browser: false,
            force: false,
            browser_timeout: Duration::from_secs(600),
            device_code_command: None,
        }
    }
}

/// Logs in to `target` (or refreshes, or finds the login valid), showing the URL or code and a
/// spinner on stderr. Tells the shell hooks when a token may have been written.
pub async fn login(
    ctx: &Context,
    target: &SessionTarget,
    choice: &LoginChoice,
    printer: Printer,
) -> aws_sso_core::Result<LoginOutcome> {
    let flow = if choice.use_device_code {
        LoginFlow::DeviceCode
    } else {
        session::default_login_flow(ctx, target)
    };
    let options =
        LoginOptions { flow, force: choice.force, browser_timeout: choice.browser_timeout };
    let browser =
        if choice.no_browser { None } else { Browser::configured(&ctx.settings, &ctx.env) };
    let mut prompt = TerminalPrompt {
        printer,
        browser,
        spinner: None,
        device_code_command: choice.device_code_command.clone(),
    };
    let outcome = session::login(ctx, target, &options, &mut prompt).await;
    prompt.stop_spinner();
    if !matches!(outcome, Ok(LoginOutcome::AlreadyValid { .. })) {
        // A new or refreshed token (or a login that failed after writing one).
        tell_shell_hooks(&ctx.env);
    }
    outcome
}

/// The lines that say how a login ended, and a warning when the session ends soon.
pub fn report(ctx: &Context, target: &SessionTarget, outcome: &LoginOutcome, printer: Printer) {
    let name = target.display_name();
    match outcome {
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
}

/// Touches the marker the shell hooks watch (docs/ARCHITECTURE.md §6), so every open shell
/// re-reads its state at the next prompt after a login or a logout. A failure only delays that.
pub fn tell_shell_hooks(env: &Environment) {
    if let Err(e) = aws_sso_core::hook::marker::touch(env) {
        tracing::debug!("could not touch the shell hook marker: {e}");
    }
}

/// Whether a command may offer a login when it needs one. Never from `credential-process`, the
/// shell hook, machine output or `exec --server`: those callers pass `Offer::Never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// At a terminal (stdin and stderr), as config.yaml's `auto_login` says.
    AtTerminal,
    /// Never: the error and its exit code 3 stand.
    Never,
}

/// Runs `run`; when it fails because a session needs a login (exit 3) and `offer` allows it at a
/// terminal, asks `Log in to NAME now? [Y/n]` on stderr (or logs in at once with `auto_login:
/// always`), logs in as `aws-sso-login` would, and runs `run` once more. `run` must do nothing
/// irreversible before it fails for want of a login: `exec` fails before it replaces the process.
pub fn login_when_needed(
    name: &str,
    env: &Environment,
    profile: Option<&str>,
    printer: Printer,
    offer: Offer,
    mut run: impl FnMut() -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let err = match run() {
        Ok(code) => return Ok(code),
        Err(err) => err,
    };
    let Some(target) = session_to_log_in(&err) else { return Err(err) };
    if offer == Offer::Never || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal()
    {
        return Err(err);
    }
    let ctx = match Context::load(env.clone(), profile) {
        Ok(ctx) => ctx,
        Err(_) => return Err(err),
    };
    let why = reason(&err);
    match ctx.settings.auto_login.unwrap_or_default() {
        AutoLogin::Never => return Err(err),
        AutoLogin::Prompt => {
            printer.always(&why);
            if !ask(&format!("Log in to {} now? [Y/n] ", target.display_name())) {
                return Err(err);
            }
        }
        AutoLogin::Always => printer.always(&format!(
            "{why}\nLogging in to {} (auto_login: always in config.yaml).",
            target.display_name()
        )),
    }
    // The cached token looks valid when the portal refused it: only a new login replaces it.
    let selector = target.selector();
    let choice = LoginChoice {
        force: matches!(session::read_token(&ctx, &target), TokenState::Present(token)
            if token.remaining(Timestamp::now()) > session::REFRESH_WINDOW),
        device_code_command: Some(
            format!("aws-sso-login --use-device-code {selector}").trim_end().to_owned(),
        ),
        ..LoginChoice::default()
    };
    let outcome = crate::runtime()?.block_on(async {
        tokio::select! {
            outcome = login(&ctx, &target, &choice, printer) => Some(outcome),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(outcome) = outcome else {
        printer.always(&format!("{name}: login cancelled; nothing was changed."));
        return Ok(ExitCode::from(INTERRUPTED));
    };
    report(&ctx, &target, &outcome?, printer);
    run()
}

/// The session whose login would fix `err`, if that is what it needs.
fn session_to_log_in(err: &anyhow::Error) -> Option<SessionTarget> {
    err.chain()
        .find_map(|e| e.downcast_ref::<aws_sso_core::Error>())
        .and_then(aws_sso_core::Error::needs_login)
        .cloned()
}

/// Why a login is needed, in the error's words without the command it names (the question
/// offers to run it).
fn reason(err: &anyhow::Error) -> String {
    let text = err.to_string();
    let text = text.split(" Run: aws-sso-login").next().unwrap_or(&text);
    aws_sso_core::shell::printable(text.trim_end())
}

/// Asks `question` on stderr until the answer is yes (Enter, `y`, `yes`) or no (`n`, `no`, the
/// end of input). An answer that is neither is asked again, twice, then taken as no.
fn ask(question: &str) -> bool {
    let mut err = std::io::stderr().lock();
    let mut stdin = std::io::stdin().lock();
    for _ in 0..3 {
        let _ = write!(err, "{question}");
        let _ = err.flush();
        let mut line = String::new();
        match stdin.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(err);
                return false;
            }
            Ok(_) => {}
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "" | "y" | "yes" => return true,
            "n" | "no" => return false,
            _ => {
                let _ = writeln!(err, "Please answer y (or Enter) to log in, or n not to.");
            }
        }
    }
    false
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

/// `2026-11-26T22:53:00Z (in 7h 59m)`.
pub fn until(expires_at: Timestamp) -> String {
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
    device_code_command: Option<String>,
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
        let opening = match (&self.browser, &self.device_code_command) {
            (Some(_), None) => "Attempting to open your default browser. If the browser does not open, open the following URL.\nIf you are unable to open the URL on this device, run this command again with the '--use-device-code' option.".to_owned(),
            (None, None) => "Open the following URL in a browser on this machine (the login redirects to a listener on 127.0.0.1).\nTo approve on another device instead, run this command again with the '--use-device-code' option.".to_owned(),
            (Some(_), Some(command)) => format!("Attempting to open your default browser. If the browser does not open, open the following URL.\nIf you are unable to open the URL on this device, log in with a code instead: {command}"),
            (None, Some(command)) => format!("Open the following URL in a browser on this machine (the login redirects to a listener on 127.0.0.1).\nTo approve on another device instead, log in with a code: {command}"),
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
