//! The picker on a pseudo-terminal: shown when nothing is named (or a name matches several) and
//! stdin and stderr are terminals; typing filters, Enter chooses, Esc cancels with nothing run.

use aws_sso_tests::sandbox::Sandbox;
use aws_sso_tests::terminal::Terminal;
use aws_sso_tests::{stderr, stdout};

/// `aws-sso-env ARGS` with its stdin and stderr on a terminal, its stdout a pipe (as in
/// `eval "$(aws-sso-env)"`).
fn on_terminal(sandbox: &Sandbox, args: &[&str]) -> Terminal {
    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.args(args);
    Terminal::start(cmd, true)
}

/// What the terminal drew from the last `mark` on.
fn since(term: &Terminal, mark: &str) -> String {
    let raw = term.raw();
    raw.rfind(mark).map_or_else(String::new, |i| raw[i..].to_owned())
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
    pty.wait_for("24/24");
    pty.send(b"007 read");
    pty.wait_for("1/24");
    let frame = plain(&since(&pty, "corp >"));
    insta::assert_snapshot!(frame.lines().map(str::trim_end).collect::<Vec<_>>().join("\n"));
    pty.send(b"\r");
    let done = pty.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.screen);
    assert!(done.stdout.contains("\"accountId\": \"100000000007\""), "{}", done.stdout);
    assert!(done.stdout.contains("\"roleName\": \"ReadOnlyAccess\""), "{}", done.stdout);

    // Chosen last, it comes first next time.
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.wait_for("24/24");
    let frame = plain(&since(&pty, "corp >"));
    let first = frame.lines().nth(1).unwrap_or_default().to_owned();
    assert!(first.starts_with("> account-007") && first.contains("ReadOnlyAccess"), "{frame}");
    pty.send(b"\x1b");
    assert_eq!(pty.finish().status.code(), Some(130));
}

#[test]
fn esc_cancels_with_exit_130_and_runs_nothing() {
    let sandbox = Sandbox::listed(&["--accounts", "3"]);
    let marker = sandbox.path().join("ran");
    let mut pty =
        on_terminal(&sandbox, &["exec", "--", "touch", marker.to_str().expect("utf-8 path")]);
    pty.wait_for("corp >");
    pty.send(b"\x1b");
    let done = pty.finish();
    assert_eq!(done.status.code(), Some(130), "{}", done.screen);
    assert!(!marker.exists(), "the command ran");
    // Ctrl-C too.
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.wait_for("corp >");
    pty.send(b"\x03");
    assert_eq!(pty.finish().status.code(), Some(130));
}

#[test]
fn an_ambiguous_name_opens_the_picker_filtered_by_it() {
    let sandbox = Sandbox::listed(&["--accounts", "12", "--roles-per-account", "1"]);
    let mut pty = on_terminal(&sandbox, &["-f", "json", "account-01"]);
    // The filter is fuzzy, so every account matches, but the three the name starts come first.
    pty.wait_for("12/12");
    let frame = plain(&since(&pty, "corp >"));
    let first: Vec<&str> = frame.lines().skip(1).take(3).map(|l| &l[2..13]).collect();
    assert_eq!(first, ["account-010", "account-011", "account-012"], "{frame}");
    pty.send(b"\x1b[B\r");
    let done = pty.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.screen);
    assert!(done.stdout.contains("\"accountName\": \"account-011\""), "{}", done.stdout);
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
    pty.wait_for("30/30");
    assert!(pty.raw().contains("(roles fetched when chosen)"), "{}", pty.raw());
    pty.send(b"account-029\r");
    // Two roles: a second step.
    pty.wait_for("account-029 (100000000029) >");
    pty.send(b"admin\r");
    let done = pty.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.screen);
    assert!(done.stdout.contains("\"roleName\": \"AdministratorAccess\""), "{}", done.stdout);
    let operations = sandbox.emulator.operations();
    assert_eq!(operations.first().map(String::as_str), Some("ListAccounts"), "{operations:?}");
    assert_eq!(operations.last().map(String::as_str), Some("GetRoleCredentials"), "{operations:?}");
}

#[test]
fn roles_fill_in_while_the_picker_is_open_and_are_kept() {
    let sandbox = Sandbox::logged_in(&["--accounts", "30", "--roles-per-account", "2"]);
    let mut pty = on_terminal(&sandbox, &["-f", "json"]);
    pty.wait_for("30/30");
    // Each account's row becomes a row per role as its roles arrive.
    pty.wait_for("60/60");
    pty.send(b"\x1b");
    assert_eq!(pty.finish().status.code(), Some(130));
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
    let done = on_terminal(&sandbox, &["credential-process"]).finish();
    assert_eq!(done.status.code(), Some(2), "{}", done.screen);
    assert!(!done.screen.contains("corp >"), "{}", done.screen);
}

#[test]
fn aws_sso_use_with_nothing_named_opens_the_picker_too() {
    let sandbox = Sandbox::listed(&["--accounts", "3", "--roles-per-account", "1"]);
    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.args(["use", "--shell", "bash"]).env_remove("AWS_PROFILE");
    let mut pty = Terminal::start(cmd, true);
    pty.wait_for("3/3");
    pty.send(b"002\r");
    let done = pty.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.screen);
    // The shell code the `aws-sso` function evaluates: the chosen account's credentials.
    assert!(done.stdout.contains("export AWS_SSO_ACCOUNT_ID='100000000002'"), "{}", done.stdout);
}
