//! Progress on stderr while the roles of many accounts are fetched, on a terminal only.

use std::io::{IsTerminal, Write};

use aws_sso_cli::Printer;
use aws_sso_core::portal::listing::ListingProgress;

pub struct Progress {
    enabled: bool,
    drawn: bool,
}

impl Progress {
    pub fn new(printer: Printer) -> Self {
        Self { enabled: !printer.quiet && std::io::stderr().is_terminal(), drawn: false }
    }

    /// Clears the line, so what follows starts clean.
    pub fn finish(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.drawn = false;
        }
    }

    fn draw(&mut self, text: &str) {
        if self.enabled {
            let _ = write!(std::io::stderr(), "\r\x1b[2K{text}");
            let _ = std::io::stderr().flush();
            self.drawn = true;
        }
    }
}

impl ListingProgress for Progress {
    fn accounts_listed(&mut self, total: usize) {
        self.draw(&format!("Listing the roles of {total} accounts…"));
    }

    fn account_done(&mut self, done: usize, total: usize) {
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        self.draw(&format!(
            "[{}{}] {done}/{total} accounts",
            "#".repeat(filled),
            " ".repeat(width - filled)
        ));
    }
}
