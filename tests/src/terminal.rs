//! A command run at a pseudo-terminal: its stdin and stderr are the terminal (as a person's
//! shell gives them), its stdout a pipe, so a test can see what it asks, answer it, and still
//! read the data it prints apart from the messages.

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A running command whose stdin and stderr are a pseudo-terminal.
pub struct Terminal {
    child: Child,
    /// The terminal's other end: what the command writes to stderr comes out here, and what is
    /// written here is what the person typed.
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
}

/// How a command run at a terminal ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    /// What the terminal showed (stderr and the echo of what was typed), cleaned by [`clean`].
    pub screen: String,
}

impl Terminal {
    /// Starts `command` with a new pseudo-terminal as its stdin and stderr (or as its stderr
    /// only, with stdin from /dev/null, when `stdin_too` is false).
    pub fn start(mut command: Command, stdin_too: bool) -> Terminal {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .expect("open a pseudo-terminal");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let path = std::path::PathBuf::from(name.to_string_lossy().into_owned());
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let stdin = if stdin_too {
            Stdio::from(slave.try_clone().expect("dup the terminal"))
        } else {
            Stdio::null()
        };
        command.stdin(stdin).stderr(Stdio::from(slave)).stdout(Stdio::piped());
        let mut child = command.spawn().expect("start the command at a terminal");
        // The parent's copies of the terminal's side go with `command`.
        drop(command);
        let master = File::from(master);
        let screen = Arc::new(Mutex::new(Vec::new()));
        drain(master.try_clone().expect("dup the terminal"), Arc::clone(&screen));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        drain(child.stdout.take().expect("piped stdout"), Arc::clone(&stdout));
        Terminal { child, master, screen, stdout }
    }

    /// What the terminal showed so far, cleaned.
    pub fn screen(&self) -> String {
        clean(&self.screen.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Waits until the terminal shows `text`; panics with the screen after 30 s.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.screen().contains(text) {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the terminal never showed {text:?}; it showed:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Everything the terminal showed so far, escape sequences and all.
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }

    /// How many bytes the terminal showed so far: a mark for [`Terminal::wait_for_after`].
    pub fn shown_so_far(&self) -> usize {
        self.screen.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Waits until the terminal shows `text` after the first `mark` bytes; panics after 30 s.
    pub fn wait_for_after(&mut self, mark: usize, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let shown = self.screen.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if shown.get(mark..).is_some_and(|s| String::from_utf8_lossy(s).contains(text)) {
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the terminal never showed {text:?}; it showed:\n{}", self.raw());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Types `keys` as they are: `\r` is Enter, `\x1b` Esc, `\x03` Ctrl-C.
    pub fn send(&mut self, keys: &[u8]) {
        self.master.write_all(keys).expect("type on the terminal");
        self.master.flush().expect("flush the terminal");
    }

    /// Types `line` and Enter.
    pub fn type_line(&mut self, line: &str) {
        self.master.write_all(format!("{line}\n").as_bytes()).expect("type on the terminal");
        self.master.flush().expect("flush the terminal");
    }

    /// Waits for the command to end (60 s at most, then kills it and panics).
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the command") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the command did not end within 60 s; the terminal showed:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // What the command wrote last is still on its way through the terminal and the pipe.
        std::thread::sleep(Duration::from_millis(200));
        let stdout =
            String::from_utf8_lossy(&self.stdout.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned();
        Finished { status, stdout, screen: self.screen() }
    }
}

/// Copies everything `from` gives into `into`, in the background, until it ends (a terminal
/// ends with an error once every process has closed it).
fn drain(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut chunk = [0; 4096];
        while let Ok(read @ 1..) = from.read(&mut chunk) {
            into.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(&chunk[..read]);
        }
    });
}

/// The screen as lines of text: a terminal's `\r\n` as `\n`, and the spinner (frames drawn over
/// each other with `\r`, then erased) left out, as a person sees the screen once it stops.
pub fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n").replace("\x1b[2K", "");
    let spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    text.split('\n')
        .map(|line| {
            line.split('\r').filter(|part| !part.starts_with(spinner)).collect::<Vec<_>>().concat()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
