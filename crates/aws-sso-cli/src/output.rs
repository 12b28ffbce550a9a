//! What goes to the terminal: data on stdout, messages on stderr, colors only when wanted, and
//! diagnostics through `tracing` with one line per event.

use std::fmt;
use std::io::{IsTerminal, Write};

use aws_sso_core::env::{self, Environment};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::registry::LookupSpan;

use crate::args::ColorChoice;

/// A mistake on the command line that clap cannot see; exits 2 like clap's own.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The user cancelled (Esc or Ctrl-C in a picker): nothing was done, and the command exits
/// [`crate::INTERRUPTED`] as an interrupted one does.
#[derive(Debug)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cancelled; nothing was done")
    }
}

impl std::error::Error for Cancelled {}

/// Decides what reaches the user.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    pub quiet: bool,
    pub color: bool,
    /// Whether stdout is a terminal: tables get padding and color only there.
    pub terminal: bool,
}

impl Printer {
    pub fn new(quiet: bool, choice: ColorChoice, env: &Environment) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => env.non_empty(env::NO_COLOR).is_none() && terminal,
        };
        Self { quiet, color, terminal }
    }

    /// A message for people on stderr (instructions, results), unless `--quiet`.
    pub fn message(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// Text the user must see even with `--quiet` (a URL and code to open).
    pub fn always(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// Data on stdout, written at once.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    pub fn paint(&self, text: &str, style: Style) -> String {
        if !self.color {
            return text.to_owned();
        }
        let code = match style {
            Style::Good => "32",
            Style::Bad => "31",
            Style::Warn => "33",
            Style::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Style {
    Good,
    Bad,
    Warn,
    Bold,
}

/// Diagnostics on stderr: warnings always, more with `-v`, or whatever `AWS_SSO_LOG` asks.
pub fn init_logging(name: &'static str, verbose: u8, quiet: bool, env: &Environment) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;

    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let filter = env
        .non_empty(env::AWS_SSO_LOG)
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(level));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(OneLine { name })
        .with_filter(filter);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// `aws-sso-login: warning: …`, the way the rest of our messages look.
struct OneLine {
    name: &'static str,
}

impl<S, N> FormatEvent<S, N> for OneLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        write!(writer, "{}: {level}: ", self.name)?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
