//! A command on a pseudo-terminal, for what only happens at a terminal (the picker): its stdin,
//! stdout and stderr are the terminal, keys are written to it, and what it draws is read back.
//! Built on rustix's pty calls; no shell and no external tool is needed.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

/// A running command whose terminal this is.
pub struct Pty {
    master: std::fs::File,
    child: Child,
    /// Everything read from the terminal so far.
    pub seen: String,
}

impl Pty {
    /// Starts `cmd` on a new terminal of 100 columns by 30 rows. It is not made the terminal's
    /// controlling process (that needs code between fork and exec, which this crate forbids):
    /// nothing the picker does needs it, since raw mode turns Ctrl-C into a key.
    pub fn spawn(mut cmd: Command) -> Pty {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let slave: OwnedFd = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().expect("utf-8 pts name"))
            .expect("open the terminal")
            .into();
        let size = rustix::termios::Winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
        rustix::termios::tcsetwinsize(&slave, size).expect("window size");
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().expect("spawn on the terminal");
        Pty { master: master.into(), child, seen: String::new() }
    }

    /// Types `keys` (raw bytes: `\r` is Enter, `\x1b` is Esc).
    pub fn send(&mut self, keys: &[u8]) {
        self.master.write_all(keys).expect("write to the terminal");
        self.master.flush().expect("flush");
    }

    /// Reads until `text` has been seen, or panics after `within` with what was seen.
    pub fn expect(&mut self, text: &str, within: Duration) {
        self.expect_from(0, text, within);
    }

    /// Reads until `text` has been seen after the first `from` bytes read ([`Pty::read_so_far`]).
    pub fn expect_from(&mut self, from: usize, text: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.seen.get(from..).is_some_and(|s| s.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "never saw {text:?} on the terminal; saw:\n{}", self.seen);
            self.read_for(left.min(Duration::from_millis(100)));
        }
    }

    /// How many bytes were read so far: a mark for [`Pty::expect_from`].
    pub fn read_so_far(&self) -> usize {
        self.seen.len()
    }

    /// What the command drew after `mark` was last seen.
    pub fn since(&self, mark: &str) -> &str {
        self.seen.rfind(mark).map_or("", |i| &self.seen[i..])
    }

    fn read_for(&mut self, timeout: Duration) -> bool {
        let mut fds = [PollFd::new(&self.master, PollFlags::IN)];
        let timeout = Timespec::try_from(timeout).expect("timeout");
        if poll(&mut fds, Some(&timeout)).unwrap_or(0) == 0 {
            return false;
        }
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(n) if n > 0 => {
                self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                true
            }
            // EIO once the command closed its side: nothing more to read.
            _ => false,
        }
    }

    /// Waits for the command to exit (reading what it still draws) and returns its exit code.
    pub fn wait(mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + within;
        loop {
            self.read_for(Duration::from_millis(50));
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                while self.read_for(Duration::from_millis(50)) {}
                return (status.code(), self.seen);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the command did not exit; saw:\n{}", self.seen);
            }
        }
    }
}
