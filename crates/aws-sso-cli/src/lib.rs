//! What every binary of the suite shares, so they behave alike: the common flags (docs/ARCHITECTURE.md §7),
//! the [`Printer`] that decides what reaches the terminal, the aligned [`table`]s, logging, the
//! terminal [`login`] (and the login offered when a command needs one), and the one place where
//! an error becomes a message and an exit code.
//!
//! docs/ARCHITECTURE.md §2 lists one crate per binary plus the core library; this small crate is added so
//! the binaries stay thin without copying this glue into each (core must not print).

mod args;
pub mod complete;
pub mod login;
mod output;
pub mod shown;
pub mod table;

use std::io::Write;
use std::process::ExitCode;

use aws_sso_core::error::ErrorKind;

pub use args::{
    ColorChoice, GlobalArgs, SessionArgs, parse_config_value, parse_name, parse_region,
};
pub use output::{Cancelled, Printer, Style, UsageError, init_logging};
pub use shown::{parse, shown};

/// The exit code of a command cut short by Ctrl-C, as shells report SIGINT.
pub const INTERRUPTED: u8 = 130;

/// A runtime for the commands that make network calls; commands that only read files never
/// build one.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// The end of every `main`: success as it is, an error as one message on stderr and the exit
/// code of docs/ARCHITECTURE.md §7. A closed stdout (`| head`) is not an error.
pub fn finish(name: &str, result: anyhow::Result<ExitCode>) -> ExitCode {
    finish_as(name, result, Layout::Lines)
}

/// How an error message is laid out on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The message as written, then its causes, one per line.
    Lines,
    /// Everything on one line: what `credential_process` callers show their users.
    OneLine,
}

/// [`finish`], with the message laid out as `layout` says.
pub fn finish_as(name: &str, result: anyhow::Result<ExitCode>, layout: Layout) -> ExitCode {
    let err = match result {
        Ok(code) => return code,
        Err(err) => err,
    };
    if err.chain().any(is_broken_pipe) {
        return ExitCode::SUCCESS;
    }
    if err.chain().any(|e| e.is::<Cancelled>()) {
        return ExitCode::from(INTERRUPTED);
    }
    let kind = if err.chain().any(|e| e.is::<UsageError>()) {
        ErrorKind::Usage
    } else {
        err.chain()
            .find_map(|e| e.downcast_ref::<aws_sso_core::Error>())
            .map_or(ErrorKind::Failure, aws_sso_core::Error::kind)
    };
    let top = err.to_string();
    let mut text = format!("{name}: error: {top}\n");
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !top.contains(&cause) {
            text.push_str(&format!("  caused by: {cause}\n"));
        }
    }
    if layout == Layout::OneLine {
        let joined = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>();
        text = format!("{}\n", joined.join(" "));
    }
    // A value of the command line the error repeats (a name nothing knows) is shown cut, as
    // clap's errors show it.
    let args: Vec<String> =
        std::env::args_os().skip(1).map(|arg| arg.to_string_lossy().into_owned()).collect();
    let text = shown::with_long_args_shown(&text, &args);
    // Paths and names in errors may hold escape sequences: the terminal must not run them.
    let text = aws_sso_core::shell::printable(&text);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    ExitCode::from(u8::try_from(kind.exit_code()).unwrap_or(1))
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
