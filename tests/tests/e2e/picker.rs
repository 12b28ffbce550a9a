//! The picker on a pseudo-terminal: shown when nothing is named (or a name matches several) and
//! stdin and stderr are terminals; typing filters, Enter chooses, Esc cancels with nothing run.

use std::time::Duration;

use aws_sso_tests::pty::Pty;
use aws_sso_tests::sandbox::Sandbox;
use aws_sso_tests::{stderr, stdout};

const WAIT: Duration = Duration::from_secs(20);

/// `aws-sso-env ARGS` on a terminal of its own.
fn on_terminal(sandbox: &Sandbox, args: &[&str]) -> Pty {
    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.args(args);
    Pty::spawn(cmd)
}

/// The rows the last frame drew, without the escape sequences that drew them.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: parameters up to a final byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

#[test]
fn nothing_named_at_a_terminal_opens_the_picker_and_enter_chooses() {
    let sandbox = Sandbox::listed(&["--accounts", "12", "--roles-per-account", "2"]);
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.expect("24/24", WAIT);
    pty.send(b"007 read");
    pty.expect("1/24", WAIT);
    let frame = plain(pty.since("corp >"));
    insta::assert_snapshot!(frame.lines().map(str::trim_end).collect::<Vec<_>>().join("\n"));
    pty.send(b"\r");
    let (code, seen) = pty.wait(WAIT);
    assert_eq!(code, Some(0), "{seen}");
    assert!(seen.contains("\"accountId\": \"100000000007\""), "{seen}");
    assert!(seen.contains("\"roleName\": \"ReadOnlyAccess\""), "{seen}");

    // Chosen last, it comes first next time.
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.expect("24/24", WAIT);
    let frame = plain(pty.since("corp >"));
    let first = frame.lines().nth(1).unwrap_or_default().to_owned();
    assert!(first.starts_with("> account-007") && first.contains("ReadOnlyAccess"), "{frame}");
    pty.send(b"\x1b");
    let (code, _) = pty.wait(WAIT);
    assert_eq!(code, Some(130));
}

#[test]
fn esc_cancels_with_exit_130_and_runs_nothing() {
    let sandbox = Sandbox::listed(&["--accounts", "3"]);
    let marker = sandbox.path().join("ran");
    let mut pty =
        on_terminal(&sandbox, &["exec", "--", "touch", marker.to_str().expect("utf-8 path")]);
    pty.expect("corp >", WAIT);
    pty.send(b"\x1b");
    let (code, seen) = pty.wait(WAIT);
    assert_eq!(code, Some(130), "{seen}");
    assert!(!marker.exists(), "the command ran");
    // Ctrl-C too.
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.expect("corp >", WAIT);
    pty.send(b"\x03");
    assert_eq!(pty.wait(WAIT).0, Some(130));
}

#[test]
fn an_ambiguous_name_opens_the_picker_filtered_by_it() {
    let sandbox = Sandbox::listed(&["--accounts", "12", "--roles-per-account", "1"]);
    let mut pty = on_terminal(&sandbox, &["-f", "json", "account-01"]);
    // The filter is fuzzy, so every account matches, but the three the name starts come first.
    pty.expect("12/12", WAIT);
    let frame = plain(pty.since("corp >"));
    let first: Vec<&str> = frame.lines().skip(1).take(3).map(|l| &l[2..13]).collect();
    assert_eq!(first, ["account-010", "account-011", "account-012"], "{frame}");
    pty.send(b"\x1b[B\r");
    let (code, seen) = pty.wait(WAIT);
    assert_eq!(code, Some(0), "{seen}");
    assert!(seen.contains("\"accountName\": \"account-011\""), "{seen}");
}

#[test]
fn on_a_cold_cache_the_index_comes_first_and_a_chosen_account_gets_its_roles() {
    // Slow enough that the account is chosen before the background brings its roles.
    let sandbox = Sandbox::logged_in(&[
        "--accounts",
        "30",
        "--roles-per-account",
        "2",
        "--latency-ms",
        "200",
    ]);
    sandbox.emulator.reset_log();
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.expect("30/30", WAIT);
    assert!(pty.seen.contains("(roles fetched when chosen)"), "{}", pty.seen);
    pty.send(b"account-029\r");
    // Two roles: a second step.
    pty.expect("account-029 (100000000029) >", WAIT);
    pty.send(b"admin\r");
    let (code, seen) = pty.wait(WAIT);
    assert_eq!(code, Some(0), "{seen}");
    assert!(seen.contains("\"roleName\": \"AdministratorAccess\""), "{seen}");
    let operations = sandbox.emulator.operations();
    assert_eq!(operations.first().map(String::as_str), Some("ListAccounts"), "{operations:?}");
    assert_eq!(operations.last().map(String::as_str), Some("GetRoleCredentials"), "{operations:?}");
}

#[test]
fn roles_fill_in_while_the_picker_is_open_and_are_kept() {
    let sandbox = Sandbox::logged_in(&["--accounts", "30", "--roles-per-account", "2"]);
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.expect("30/30", WAIT);
    // Each account's row becomes a row per role as its roles arrive.
    pty.expect("60/60", WAIT);
    pty.send(b"\x1b");
    assert_eq!(pty.wait(WAIT).0, Some(130));
    // What arrived was saved when the picker closed: a listing needs no request now.
    sandbox.emulator.reset_log();
    let ls = sandbox.cmd("aws-sso-ls").args(["-o", "ids"]).output().expect("ls");
    assert!(ls.status.success(), "{}", stderr(&ls));
    assert_eq!(stdout(&ls).lines().count(), 60);
    assert!(sandbox.emulator.operations().is_empty(), "{:?}", sandbox.emulator.operations());
}

#[test]
fn without_a_terminal_the_error_stands_at_once() {
    let sandbox = Sandbox::listed(&["--accounts", "3"]);
    let out = sandbox.cmd("aws-sso-env").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("No account and role given"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    // credential-process never opens it, even at a terminal.
    let mut pty = on_terminal(&sandbox, &["credential-process"]);
    let _ = &mut pty;
    let (code, seen) = pty.wait(WAIT);
    assert_eq!(code, Some(2), "{seen}");
    assert!(!seen.contains("corp >"), "{seen}");
}
