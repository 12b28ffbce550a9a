//! The picker on a terminal: raw mode on stdin, keys decoded from its bytes, frames drawn on
//! stderr below the cursor and wiped when done.
//!
//! Written on rustix's termios rather than a terminal crate: the picker needs raw mode, a dozen
//! keys and a few escape sequences, and nothing else of the suite touches the terminal (the
//! measurements are in docs/ARCHITECTURE.md §9).

use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::termios::{OptionalActions, Termios, tcgetattr, tcgetwinsize, tcsetattr};

use super::{Key, Picker, Step};

/// The most lines a frame takes, the query and count lines included.
const MAX_HEIGHT: usize = 15;

/// How long a lone Esc waits for the rest of an escape sequence.
const ESCAPE_WAIT: Duration = Duration::from_millis(40);

/// How often the picker looks for news (`feed`) while no key is typed.
const FEED_EVERY: Duration = Duration::from_millis(100);

/// Runs `picker` on the terminal until a row is chosen (`Some`) or it is cancelled (`None`).
/// `feed` is called between keys (at least every [`FEED_EVERY`]) to bring in what arrived
/// meanwhile (roles fetched in the background); it says whether the picker changed.
pub fn run(
    picker: &mut Picker,
    feed: &mut dyn FnMut(&mut Picker) -> bool,
) -> io::Result<Option<super::Row>> {
    let stdin = io::stdin();
    let fd = stdin.as_fd();
    let _raw = RawMode::enter(fd)?;
    let mut screen = Screen { drawn: 0, out: io::stderr() };
    let mut pending: Vec<u8> = Vec::new();
    let outcome = loop {
        let (cols, rows) = size(fd);
        let (_, total) = picker.counts();
        let height = (total + 2).min(rows.saturating_sub(1)).clamp(3, MAX_HEIGHT);
        let frame = picker.frame(cols.saturating_sub(1).max(10), height);
        screen.draw(&frame.lines, frame.selected_line, height)?;
        let keys = loop {
            let keys = read_keys(fd, &mut pending)?;
            if !keys.is_empty() || feed(picker) {
                break keys;
            }
        };
        let mut chosen = None;
        for key in keys {
            match picker.key(key, height.saturating_sub(2)) {
                Step::Continue => {}
                Step::Chosen(row) => {
                    chosen = Some(Some(row));
                    break;
                }
                Step::Cancelled => {
                    chosen = Some(None);
                    break;
                }
            }
        }
        if let Some(outcome) = chosen {
            break outcome;
        }
    };
    screen.wipe()?;
    Ok(outcome)
}

/// The terminal's columns and rows; 80×24 when it cannot say.
fn size(fd: BorrowedFd<'_>) -> (usize, usize) {
    match tcgetwinsize(fd) {
        Ok(w) if w.ws_col > 0 && w.ws_row > 0 => (usize::from(w.ws_col), usize::from(w.ws_row)),
        _ => (80, 24),
    }
}

/// Raw mode while held; the terminal as it was once dropped (also on a panic's unwinding).
struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    fn enter(fd: BorrowedFd<'a>) -> io::Result<Self> {
        let saved = tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(fd, OptionalActions::Now, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}

/// The lines drawn so far, to redraw over them.
struct Screen {
    drawn: usize,
    out: io::Stderr,
}

impl Screen {
    fn draw(&mut self, lines: &[String], selected: Option<usize>, height: usize) -> io::Result<()> {
        let mut text = String::from("\x1b[?25l");
        text.push_str(&self.back_to_top());
        for n in 0..height {
            text.push_str("\r\x1b[2K");
            if let Some(line) = lines.get(n) {
                if Some(n) == selected {
                    text.push_str(&format!("\x1b[7m{line}\x1b[0m"));
                } else {
                    text.push_str(line);
                }
            }
            if n + 1 < height {
                text.push_str("\r\n");
            }
        }
        // The cursor after the query, where typing goes.
        if height > 1 {
            text.push_str(&format!("\x1b[{}A", height - 1));
        }
        let query_end = lines.first().map_or(0, |l| aws_sso_cli::table::width(l));
        text.push_str(&format!("\r\x1b[{query_end}C\x1b[?25h"));
        self.drawn = height;
        let mut out = self.out.lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// The cursor is left on the first line of the frame, so going back is a carriage return.
    fn back_to_top(&self) -> String {
        "\r".to_owned()
    }

    fn wipe(&mut self) -> io::Result<()> {
        if self.drawn == 0 {
            return Ok(());
        }
        let mut out = self.out.lock();
        out.write_all(format!("{}\x1b[J\x1b[?25h", self.back_to_top()).as_bytes())?;
        self.drawn = 0;
        out.flush()
    }
}

/// Every whole key read within [`FEED_EVERY`] (none when nothing was typed); a partial escape
/// sequence waits in `pending` for its end (a lone Esc is Esc after [`ESCAPE_WAIT`]).
fn read_keys(fd: BorrowedFd<'_>, pending: &mut Vec<u8>) -> io::Result<Vec<Key>> {
    if pending.is_empty() && !wait_readable(fd, FEED_EVERY)? {
        return Ok(Vec::new());
    }
    loop {
        if !pending.is_empty() {
            let (keys, used) = decode(pending, false);
            if !keys.is_empty() {
                pending.drain(..used);
                return Ok(keys);
            }
            // Only the start of an escape sequence: wait briefly for the rest of it.
            if !wait_readable(fd, ESCAPE_WAIT)? {
                let (keys, used) = decode(pending, true);
                pending.drain(..used);
                if !keys.is_empty() {
                    return Ok(keys);
                }
                continue;
            }
        }
        let mut buf = [0u8; 256];
        let n = rustix::io::read(fd, &mut buf)?;
        if n == 0 {
            // The terminal went away: nothing more will be typed.
            return Ok(vec![Key::Cancel]);
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let timeout =
        Timespec::try_from(timeout).unwrap_or(Timespec { tv_sec: 0, tv_nsec: 40_000_000 });
    Ok(poll(&mut fds, Some(&timeout))? > 0)
}

/// The keys at the start of `bytes` and how many bytes they took. A trailing incomplete escape
/// sequence or UTF-8 character is left unread, unless `flush`: then a lone Esc is [`Key::Cancel`]
/// and an incomplete sequence is dropped.
pub fn decode(bytes: &[u8], flush: bool) -> (Vec<Key>, usize) {
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (key, len) = match b {
            0x1b => match escape(&bytes[i..]) {
                Some((key, len)) => (key, len),
                None if flush => (Some(Key::Cancel), bytes.len() - i),
                None => break,
            },
            b'\r' | b'\n' => (Some(Key::Enter), 1),
            0x03 | 0x04 | 0x07 => (Some(Key::Cancel), 1),
            0x7f | 0x08 => (Some(Key::Backspace), 1),
            0x15 => (Some(Key::ClearQuery), 1),
            0x10 | 0x0b => (Some(Key::Up), 1),
            0x0e => (Some(Key::Down), 1),
            0x00..=0x1f => (None, 1),
            _ => {
                let len = utf8_len(b);
                if i + len > bytes.len() {
                    if flush {
                        i = bytes.len();
                    }
                    break;
                }
                match std::str::from_utf8(&bytes[i..i + len]).ok().and_then(|s| s.chars().next()) {
                    Some(c) => (Some(Key::Char(c)), len),
                    None => (None, 1),
                }
            }
        };
        keys.extend(key);
        i += len;
    }
    (keys, i)
}

/// An escape sequence at the start of `bytes` (which starts with Esc): the key (or `None` for
/// one the picker ignores) and its length; `None` when it is not complete yet.
fn escape(bytes: &[u8]) -> Option<(Option<Key>, usize)> {
    match bytes.get(1) {
        None => None,
        Some(b'[' | b'O') => {
            // CSI or SS3: parameters, then a final byte in 0x40..=0x7e.
            let end = bytes[2..].iter().position(|b| (0x40..=0x7e).contains(b))? + 2;
            let key = match (&bytes[2..end], bytes[end]) {
                (b"", b'A') => Some(Key::Up),
                (b"", b'B') => Some(Key::Down),
                (b"5", b'~') => Some(Key::PageUp),
                (b"6", b'~') => Some(Key::PageDown),
                _ => None,
            };
            Some((key, end + 1))
        }
        // Esc then another key: Esc alone (the other key is read next).
        Some(_) => Some((Some(Key::Cancel), 1)),
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}
