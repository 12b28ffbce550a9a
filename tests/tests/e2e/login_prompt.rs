//! Login when needed: a command that needs a login it does not have offers it at a terminal
//! (stdin and stderr), logs in as `aws-sso-login` would, and goes on; nowhere else, and never
//! where a program reads the answer. Driven through a pseudo-terminal.
#![cfg(unix)]

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::terminal::Terminal;
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};

const QUESTION: &str = "Log in to corp now? [Y/n] ";

/// `aws-sso-env exec` for the role of `ONE_SESSION`'s profile, running `program`.
fn exec(sandbox: &Sandbox, program: &[&str]) -> std::process::Command {
    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.args(["exec", "100000000001", "ReadOnlyAccess", "--"]).args(program);
    cmd
}

/// The screen as a snapshot shows it: the login URL, which changes every run, cut to its path.
fn shown(screen: &str) -> String {
    screen
        .lines()
        .map(|line| match line.split_once("/authorize?") {
            Some((start, _)) => format!("{start}/authorize?[QUERY]"),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn answering_yes_logs_in_and_then_runs_the_command() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let mut terminal = Terminal::start(exec(&sandbox, &["printenv", "AWS_SSO_ROLE_NAME"]), true);
    terminal.wait_for(QUESTION);
    assert!(sandbox.browser_opens().is_empty(), "no browser before the answer");
    terminal.type_line("y");
    let done = terminal.finish();
    assert!(done.status.success(), "{}", done.screen);
    assert_eq!(done.stdout, "ReadOnlyAccess\n", "the command ran, with the role");
    assert_eq!(sandbox.browser_opens().len(), 1, "one login, in the browser");
    assert!(sandbox.token_path("corp").exists());
    with_filters!(sandbox, { insta::assert_snapshot!("prompt_yes", shown(&done.screen)) });

    // Logged in now: the next command asks nothing.
    let again = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--", "true"])
        .output()
        .expect("run");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(sandbox.browser_opens().len(), 1);
}

#[test]
fn answering_no_exits_3_with_the_usual_message_and_runs_nothing() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let ran = sandbox.path().join("ran");
    let touch = ["touch", ran.to_str().expect("a UTF-8 path")];
    let mut terminal = Terminal::start(exec(&sandbox, &touch), true);
    terminal.wait_for(QUESTION);
    terminal.type_line("n");
    let done = terminal.finish();
    assert_eq!(done.status.code(), Some(3), "{}", done.screen);
    assert!(!ran.exists(), "the command did not run");
    assert!(sandbox.browser_opens().is_empty());
    assert!(!sandbox.token_path("corp").exists());
    with_filters!(sandbox, { insta::assert_snapshot!("prompt_no", shown(&done.screen)) });
}

#[test]
fn an_answer_that_is_neither_is_asked_again() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let mut terminal = Terminal::start(exec(&sandbox, &["true"]), true);
    terminal.wait_for(QUESTION);
    terminal.type_line("maybe");
    terminal.wait_for("Please answer y");
    terminal.type_line("no");
    let done = terminal.finish();
    assert_eq!(done.status.code(), Some(3), "{}", done.screen);
    assert_eq!(done.screen.matches(QUESTION).count(), 2, "{}", done.screen);
    with_filters!(sandbox, { insta::assert_snapshot!("prompt_neither", shown(&done.screen)) });
}

#[test]
fn aws_sso_ls_offers_the_login_too_but_not_for_json() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let mut json = sandbox.std_cmd("aws-sso-ls");
    json.args(["-o", "json"]);
    let done = Terminal::start(json, true).finish();
    assert_eq!(done.status.code(), Some(3), "{}", done.screen);
    assert!(!done.screen.contains("[Y/n]"), "{}", done.screen);

    let mut terminal = Terminal::start(sandbox.std_cmd("aws-sso-ls"), true);
    terminal.wait_for(QUESTION);
    terminal.type_line("");
    let done = terminal.finish();
    assert!(done.status.success(), "{}", done.screen);
    assert!(done.stdout.contains("ReadOnlyAccess"), "{}", done.stdout);
}

#[test]
fn no_question_without_a_terminal_on_stdin_and_stderr() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    // Neither is a terminal.
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("[Y/n]"), "{}", stderr(&out));
    // stderr is a terminal, stdin is not (a pipe into the command, or a job's /dev/null).
    let done = Terminal::start(exec(&sandbox, &["true"]), false).finish();
    assert_eq!(done.status.code(), Some(3), "{}", done.screen);
    assert!(!done.screen.contains("[Y/n]"), "{}", done.screen);
    assert!(done.screen.contains("Not logged in to corp. Run: aws-sso-login"), "{}", done.screen);
    assert!(sandbox.browser_opens().is_empty());
}

#[test]
fn credential_process_and_machine_output_never_ask_even_at_a_terminal() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    let commands: [&[&str]; 4] = [
        &["credential-process", "--profile", "dev"],
        &["--profile", "dev", "--format", "process"],
        &["--profile", "dev", "--format", "json"],
        &["exec", "--server", "100000000001", "ReadOnlyAccess", "--", "true"],
    ];
    for args in commands {
        let mut cmd = sandbox.std_cmd("aws-sso-env");
        cmd.args(args);
        let done = Terminal::start(cmd, true).finish();
        assert_eq!(done.status.code(), Some(3), "{args:?}: {}", done.screen);
        assert!(!done.screen.contains("[Y/n]"), "{args:?}: {}", done.screen);
        assert!(done.screen.contains("aws-sso-login"), "{args:?}: {}", done.screen);
    }
    assert!(sandbox.browser_opens().is_empty());
    assert!(!sandbox.token_path("corp").exists());
}

#[test]
fn auto_login_never_asks_nothing_and_always_logs_in_without_asking() {
    let sandbox = Sandbox::new(ONE_SESSION, &[]);
    sandbox.write_settings("auto_login: never\n");
    let done = Terminal::start(exec(&sandbox, &["true"]), true).finish();
    assert_eq!(done.status.code(), Some(3), "{}", done.screen);
    assert!(!done.screen.contains("[Y/n]"), "{}", done.screen);
    assert!(sandbox.browser_opens().is_empty());

    sandbox.write_settings("auto_login: always\n");
    let done = Terminal::start(exec(&sandbox, &["printenv", "AWS_SSO_ACCOUNT_ID"]), true).finish();
    assert!(done.status.success(), "{}", done.screen);
    assert!(!done.screen.contains("[Y/n]"), "{}", done.screen);
    assert_eq!(done.stdout, "100000000001\n");
    assert_eq!(sandbox.browser_opens().len(), 1);
    with_filters!(sandbox, { insta::assert_snapshot!("prompt_always", shown(&done.screen)) });

    // Still only at a terminal.
    // Logged out by hand: neither the token nor the role credentials are left.
    std::fs::remove_file(sandbox.token_path("corp")).expect("remove the token");
    std::fs::remove_dir_all(sandbox.cli_cache()).expect("remove the role credentials");
    let out = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(sandbox.browser_opens().len(), 1, "{}", stdout(&out));
}

#[test]
fn a_login_expired_beyond_refresh_is_offered_again_with_why() {
    let sandbox = Sandbox::logged_in(&[]);
    sandbox.expire_token("corp");
    // Without its refresh token, the expired login cannot be renewed without the person.
    let path = sandbox.token_path("corp");
    let text = std::fs::read_to_string(&path).expect("read the token");
    let mut token: serde_json::Value = serde_json::from_str(&text).expect("token JSON");
    token.as_object_mut().expect("an object").remove("refreshToken");
    std::fs::write(&path, token.to_string()).expect("write the token");

    let mut terminal = Terminal::start(exec(&sandbox, &["printenv", "AWS_SSO_ROLE_NAME"]), true);
    terminal.wait_for(QUESTION);
    terminal.type_line("");
    let done = terminal.finish();
    assert!(done.status.success(), "{}", done.screen);
    assert_eq!(done.stdout, "ReadOnlyAccess\n");
    assert_eq!(sandbox.browser_opens().len(), 2, "the first login, and this one");
    with_filters!(sandbox, { insta::assert_snapshot!("prompt_expired", shown(&done.screen)) });
}

#[test]
fn a_login_the_portal_refused_is_replaced_though_it_looks_valid() {
    // Each access token works for one portal request: the second role's is refused (401).
    let sandbox = Sandbox::logged_in(&["--token-expires-after-requests", "1"]);
    let first = sandbox
        .cmd("aws-sso-env")
        .args(["exec", "100000000001", "ReadOnlyAccess", "--", "true"])
        .output()
        .expect("run");
    assert!(first.status.success(), "{}", stderr(&first));

    let mut cmd = sandbox.std_cmd("aws-sso-env");
    cmd.args(["exec", "100000000002", "ReadOnlyAccess", "--", "printenv", "AWS_SSO_ACCOUNT_ID"]);
    let mut terminal = Terminal::start(cmd, true);
    terminal.wait_for(QUESTION);
    terminal.type_line("y");
    let done = terminal.finish();
    assert!(done.status.success(), "{}", done.screen);
    assert_eq!(done.stdout, "100000000002\n");
    assert_eq!(sandbox.browser_opens().len(), 2, "a new login, though the old one had not expired");
    assert!(done.screen.contains("The SSO portal refused the login of corp"), "{}", done.screen);
    with_filters!(sandbox, { insta::assert_snapshot!("prompt_refused", shown(&done.screen)) });
}
