//! Tab completion: every binary asked for candidates the way each shell asks
//! (`COMPLETE=<shell> bin -- <words>`), and the generated scripts loaded in the real shells.

use std::path::Path;
use std::process::Command;

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::shells;
use tempfile::TempDir;

/// Accounts with names that are easy to tell apart, one with a space and a quote in it.
const FIXTURE: &str = r#"{"accounts":[
 {"accountId":"111111111111","accountName":"production","emailAddress":"p@example.com","roles":["AdministratorAccess","ReadOnlyAccess"]},
 {"accountId":"222222222222","accountName":"staging","emailAddress":"s@example.com","roles":["Developer"]},
 {"accountId":"333333333333","accountName":"My Team's Sandbox","emailAddress":"t@example.com","roles":["PowerUser"]},
 {"accountId":"444444444444","accountName":"prod-eu","emailAddress":"e@example.com","roles":["Billing","ReadOnlyAccess"]}
]}"#;

/// A second session and a few profiles, for `--sso-session` and `--profile`.
const MORE_CONFIG: &str = "
[sso-session lab]
sso_start_url = https://d-0000000000.awsapps.com/start
sso_region = eu-west-1

[profile prod-admin]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = AdministratorAccess

[default]
region = us-east-1
";

struct Fixture {
    sandbox: Sandbox,
    _dir: TempDir,
}

/// Logged in to `corp` (the only session of the config) with the fixture's accounts cached.
fn logged_in() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("accounts.json");
    std::fs::write(&fixture, FIXTURE).expect("write fixture");
    let sandbox =
        Sandbox::new(ONE_SESSION, &["--quiet", "--fixture", fixture.to_str().expect("utf-8")]);
    let login = sandbox.cmd("aws-sso-login").output().expect("login");
    assert!(login.status.success(), "login: {}", String::from_utf8_lossy(&login.stderr));
    let ls = sandbox.cmd("aws-sso-ls").output().expect("ls");
    assert!(ls.status.success(), "ls: {}", String::from_utf8_lossy(&ls.stderr));
    Fixture { sandbox, _dir: dir }
}

/// What `bin` answers when `shell` asks for the candidates of the last word of `words`, as
/// the registration script of that shell asks. Completion must never write to stderr.
fn ask(sandbox: &Sandbox, shell: &str, words: &[&str]) -> Vec<String> {
    let mut cmd: Command = sandbox.std_cmd(words[0]);
    cmd.env("COMPLETE", shell).arg("--").args(words);
    let index = (words.len() - 1).to_string();
    match shell {
        "bash" => {
            cmd.env("_CLAP_COMPLETE_INDEX", &index).env("_CLAP_IFS", "\n");
        }
        "zsh" => {
            cmd.env("_CLAP_COMPLETE_INDEX", &index).env("_CLAP_IFS", "\n");
        }
        _ => {}
    }
    let out = cmd.output().expect("run completion");
    assert!(out.status.success(), "{words:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "completion wrote to stderr: {words:?}");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn accounts_complete_by_name_and_id_in_every_shell() {
    let f = logged_in();
    let words = ["aws-sso-env", "exec", "pro"];
    assert_eq!(ask(&f.sandbox, "bash", &words), ["prod-eu", "production"]);
    assert_eq!(ask(&f.sandbox, "zsh", &words), ["prod-eu:444444444444", "production:111111111111"]);
    assert_eq!(
        ask(&f.sandbox, "fish", &words),
        ["prod-eu\t444444444444", "production\t111111111111"]
    );
    // An id prefix, for the bare command and credential-process alike.
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", "2"]), ["222222222222"]);
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", "credential-process", "STA"]), ["staging"]);
    // With nothing typed: the subcommands, every account by name then by id, the flags.
    let all = ask(&f.sandbox, "bash", &["aws-sso-env", ""]);
    let accounts: Vec<&str> =
        all.iter().map(String::as_str).filter(|w| !w.starts_with('-')).skip(9).collect();
    assert_eq!(
        accounts,
        [
            r"'My Team'\''s Sandbox'",
            "prod-eu",
            "production",
            "staging",
            "111111111111",
            "222222222222",
            "333333333333",
            "444444444444"
        ]
    );
    assert!(all.starts_with(&lines(
        "exec\ncredential-process\neks-token\nallow\ndeny\nconsole\nstatus\ninit\nhelp"
    )));
    assert!(all.contains(&"--sso-session".to_owned()) && all.contains(&"--format".to_owned()));
}

#[test]
fn after_an_account_only_its_roles_complete() {
    let f = logged_in();
    let roles = |words: &[&str]| -> Vec<String> {
        ask(&f.sandbox, "bash", words).into_iter().filter(|w| !w.starts_with('-')).collect()
    };
    assert_eq!(
        roles(&["aws-sso-env", "production", ""]),
        ["AdministratorAccess", "ReadOnlyAccess"]
    );
    assert_eq!(roles(&["aws-sso-env", "exec", "444444444444", ""]), ["Billing", "ReadOnlyAccess"]);
    assert_eq!(roles(&["aws-sso-env", "credential-process", "staging", "d"]), ["Developer"]);
    // The account as a unique prefix, and a name with a space typed with quotes.
    assert_eq!(roles(&["aws-sso-env", "exec", "stag", ""]), ["Developer"]);
    assert_eq!(roles(&["aws-sso-env", "exec", "'My Team'\\''s Sandbox'", ""]), ["PowerUser"]);
    // `prod` starts two names but is a whole word of one only, as the commands match it.
    assert_eq!(roles(&["aws-sso-env", "exec", "prod", ""]), ["Billing", "ReadOnlyAccess"]);
    // `t` is in three names and a word of none: no guess.
    assert_eq!(roles(&["aws-sso-env", "exec", "t", ""]), Vec::<String>::new());
    // Flags between the account and the role do not hide the account.
    assert_eq!(
        roles(&["aws-sso-env", "exec", "--region", "eu-west-1", "staging", ""]),
        ["Developer"]
    );
    assert_eq!(
        ask(&f.sandbox, "zsh", &["aws-sso-env", "staging", ""])[0],
        "Developer:staging",
        "zsh shows the account beside each role"
    );
}

#[test]
fn a_name_with_a_space_and_a_quote_completes_to_one_quoted_word() {
    let f = logged_in();
    // Bash inserts the answer as it is, so it comes quoted; it is read back as one word.
    let expected = r"'My Team'\''s Sandbox'";
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", "My"]), [expected]);
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", "'My T"]), [expected]);
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", r"my\ team"]), [expected]);
    // zsh and fish quote what they insert themselves: they get the name as it is.
    assert_eq!(ask(&f.sandbox, "zsh", &["aws-sso-env", "My"]), ["My Team's Sandbox:333333333333"]);
    assert_eq!(
        ask(&f.sandbox, "fish", &["aws-sso-env", "'My"]),
        ["My Team's Sandbox\t333333333333"]
    );
}

#[test]
fn sessions_and_profiles_complete_from_the_config() {
    let sandbox = Sandbox::new(&format!("{ONE_SESSION}{MORE_CONFIG}"), &["--quiet"]);
    assert_eq!(ask(&sandbox, "bash", &["aws-sso-ls", "--sso-session", ""]), ["corp", "lab"]);
    assert_eq!(
        ask(&sandbox, "zsh", &["aws-sso-login", "logout", "--sso-session", "l"]),
        ["lab:https://d-0000000000.awsapps.com/start"]
    );
    assert_eq!(
        ask(&sandbox, "bash", &["aws-sso-env", "--profile", ""]),
        ["default", "dev", "prod-admin"]
    );
    assert_eq!(
        ask(&sandbox, "fish", &["aws-sso-login", "--profile", "prod"]),
        ["prod-admin\tcorp"]
    );
    // `--format` and `--output` values come from clap.
    assert_eq!(ask(&sandbox, "bash", &["aws-sso-ls", "-o", ""]), ["table", "json", "csv", "ids"]);
    assert_eq!(ask(&sandbox, "bash", &["aws-sso-env", "--format", "e"]), ["env", "env-no-export"]);
}

#[test]
fn the_session_on_the_line_chooses_the_accounts() {
    let f = logged_in();
    std::fs::write(f.sandbox.config_path(), format!("{ONE_SESSION}{MORE_CONFIG}")).expect("config");
    // Two sessions and none chosen: the accounts of those logged in (`lab` is not), and
    // nothing on stderr.
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", "exec", "st"]), ["staging"]);
    assert_eq!(
        ask(&f.sandbox, "bash", &["aws-sso-env", "--sso-session", "corp", "exec", "st"]),
        ["staging"]
    );
    // Before any account, a subcommand may still come.
    assert_eq!(
        ask(&f.sandbox, "bash", &["aws-sso-env", "--profile", "dev", "st"]),
        ["status", "staging"]
    );
    // `lab` has never been listed: no candidates, no error.
    assert_eq!(
        ask(&f.sandbox, "bash", &["aws-sso-env", "--sso-session", "lab", "exec", "st"]),
        Vec::<String>::new()
    );
}

#[test]
fn without_a_cache_or_a_config_only_commands_and_flags_complete() {
    let sandbox = Sandbox::new(ONE_SESSION, &["--quiet"]);
    for shell in ["bash", "zsh", "fish"] {
        let words = ask(&sandbox, shell, &["aws-sso-env", "exec", ""]);
        assert!(words.iter().all(|w| w.starts_with('-')), "{shell}: {words:?}");
        assert_eq!(ask(&sandbox, shell, &["aws-sso-ls", "p"]), Vec::<String>::new());
        let after_account = ask(&sandbox, shell, &["aws-sso-env", "x", ""]);
        assert!(after_account.iter().all(|w| w.starts_with('-')), "{shell}: {after_account:?}");
    }
    let bare = Sandbox::new("", &["--quiet"]);
    assert_eq!(ask(&bare, "bash", &["aws-sso-ls", "--sso-session", ""]), Vec::<String>::new());
    assert_eq!(
        ask(&bare, "bash", &["aws-sso-env", "credential-process", "a"]),
        Vec::<String>::new()
    );
    // A corrupt cache is no candidates too, and no warning on stderr.
    let f = logged_in();
    let cache = f.sandbox.path().join(".cache/aws-sso/accounts-corp.json");
    assert!(cache.exists(), "the account cache is where completion looks");
    std::fs::write(&cache, "{not json").expect("corrupt");
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-env", "p"]), Vec::<String>::new());
}

#[test]
fn ls_filters_complete_with_accounts_and_roles() {
    let f = logged_in();
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-ls", "re"]), ["ReadOnlyAccess"]);
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso-ls", "staging", "d"]), ["Developer"]);
    // Accounts first, then roles; zsh shows what each word is.
    assert_eq!(
        ask(&f.sandbox, "zsh", &["aws-sso-ls", "--wide", "p"]),
        ["prod-eu:444444444444", "production:111111111111", "PowerUser:role"]
    );
}

#[test]
fn the_dispatcher_completes_its_commands_and_hands_the_rest_to_them() {
    let f = logged_in();
    assert_eq!(ask(&f.sandbox, "bash", &["aws-sso", "l"]), ["login", "ls"]);
    assert_eq!(
        ask(&f.sandbox, "bash", &["aws-sso", "env", "exec", "pro"]),
        ["prod-eu", "production"]
    );
    assert_eq!(
        ask(&f.sandbox, "fish", &["aws-sso", "env", "staging", ""])[0],
        "Developer\tstaging"
    );
    assert_eq!(
        ask(&f.sandbox, "zsh", &["aws-sso", "ls", "-o", "c"]),
        ["csv:Comma-separated, with a header"]
    );
}

#[test]
fn the_dispatcher_offers_plugins_on_path_without_running_them() {
    let f = logged_in();
    let plugins = tempfile::tempdir().expect("tempdir");
    let ran = plugins.path().join("ran");
    let plugin = plugins.path().join("aws-sso-gimme");
    std::fs::write(&plugin, format!("#!/bin/sh\ntouch '{}'\n", ran.display())).expect("write");
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let path = std::env::join_paths(
        std::iter::once(plugins.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let ask_with_plugins = |shell: &str, words: &[&str]| -> Vec<String> {
        let mut cmd = f.sandbox.std_cmd("aws-sso");
        cmd.env("PATH", &path).env("COMPLETE", shell).arg("--").args(words);
        if shell != "fish" {
            cmd.env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string()).env("_CLAP_IFS", "\n");
        }
        let out = cmd.output().expect("run completion");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    };
    assert_eq!(ask_with_plugins("bash", &["aws-sso", "g"]), ["gimme"]);
    let fish = ask_with_plugins("fish", &["aws-sso", "g"]);
    assert_eq!(fish, [format!("gimme\tPlugin: {}", plugin.display())]);
    // After a plugin's name nothing is offered: a plugin may not speak the protocol, and a Tab
    // must never run a program.
    assert_eq!(ask_with_plugins("bash", &["aws-sso", "gimme", ""]), Vec::<String>::new());
    assert!(!ran.exists(), "a Tab ran the plugin");
}

/// The registration script `cargo xtask codegen` wrote for `shell` and `bin`.
fn script(shell: &str, bin: &str) -> std::path::PathBuf {
    let file = match shell {
        "bash" => format!("bash/{bin}"),
        "zsh" => format!("zsh/_{bin}"),
        "fish" => format!("fish/{bin}.fish"),
        "elvish" => format!("elvish/{bin}.elv"),
        _ => unreachable!("no such shell in these tests"),
    };
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../completions").join(file)
}

/// Runs `code` in `shell` (no rc file) in the sandbox, with the binaries first on PATH.
fn run_shell(sandbox: &Sandbox, shell: &str, code: &str) -> String {
    let path = std::env::join_paths(
        std::iter::once(sandbox.bin_dir.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let mut cmd = Command::new(shell);
    match shell {
        "bash" => cmd.args(["--norc", "--noprofile", "-c", code]),
        "zsh" => cmd.args(["-f", "-c", code]),
        "elvish" => cmd.args(["-norc", "-c", code]),
        _ => cmd.args(["--no-config", "-c", code]),
    };
    let out = cmd
        .env_clear()
        .env("HOME", sandbox.path())
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", &sandbox.emulator.url)
        .output()
        .expect("run shell");
    assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The account names of the sandbox's cache, as `aws-sso-ls -o json` lists them.
fn account_names(sandbox: &Sandbox) -> Vec<String> {
    let out = sandbox.cmd("aws-sso-ls").args(["--accounts", "-o", "json"]).output().expect("ls");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut names: Vec<String> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["accountName"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn bash_completes_with_the_generated_script() {
    if !shells::require("bash") {
        return;
    }
    let f = logged_in();
    let code = r#"
source "$SCRIPT"
complete -p aws-sso-env
tab() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
  _clap_complete_aws_sso_env aws-sso-env "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  printf '<%s>' "${COMPREPLY[@]}"; echo; }
tab aws-sso-env exec pro
tab aws-sso-env exec production ''
tab aws-sso-env My
eval "set -- ${COMPREPLY[0]}"; printf '%s|%s\n' "$#" "$1"
"#;
    let code = code.replace("$SCRIPT", &script("bash", "aws-sso-env").display().to_string());
    let out = run_shell(&f.sandbox, "bash", &code);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("complete ") && lines[0].ends_with(" aws-sso-env"), "{out}");
    assert!(lines[0].contains("-F _clap_complete_aws_sso_env"), "{out}");
    assert_eq!(lines[1], "<prod-eu><production>");
    assert!(
        lines[2].starts_with("<AdministratorAccess><ReadOnlyAccess><--assume-role><--region>"),
        "{out}"
    );
    assert_eq!(lines[3], r"<'My Team'\''s Sandbox'>");
    // Read back by bash, the inserted word is the name, as one argument.
    assert_eq!(lines[4], "1|My Team's Sandbox");
}

#[test]
fn bash_reads_back_every_hostile_name_exactly_and_runs_nothing() {
    if !shells::require("bash") {
        return;
    }
    let sandbox =
        Sandbox::new(ONE_SESSION, &["--quiet", "--accounts", "8", "--name-style", "hostile"]);
    assert!(sandbox.cmd("aws-sso-login").output().expect("login").status.success());
    let names = account_names(&sandbox);
    let code = r#"
source "$SCRIPT"
cd "$HOME"
COMP_WORDS=(aws-sso-env exec ''); COMP_CWORD=2; COMP_LINE='aws-sso-env exec '; COMP_POINT=17; COMP_TYPE=9
_clap_complete_aws_sso_env aws-sso-env '' exec
for word in "${COMPREPLY[@]}"; do
  case $word in -*|[0-9]*) continue ;; esac
  eval "set -- $word"; printf '%s\n' "$1"
done
"#;
    let code = code.replace("$SCRIPT", &script("bash", "aws-sso-env").display().to_string());
    let out = run_shell(&sandbox, "bash", &code);
    let mut read_back: Vec<String> = out.lines().map(str::to_owned).collect();
    read_back.sort();
    assert_eq!(read_back, names);
    assert!(!sandbox.path().join("pwned").exists(), "a name was run as a command");
}

#[test]
fn zsh_completes_with_the_generated_script() {
    if !shells::require("zsh") {
        return;
    }
    let f = logged_in();
    // compinit registers the script as a completion function; `_describe` (what it hands its
    // candidates to) is replaced by one that prints them.
    let code = r#"
autoload -Uz compinit && compinit -u -D
source "$SCRIPT"
print -r -- "$_comps[aws-sso-env]"
_describe() { local name=${@[-1]}; print -rl -- "${(@P)name}" }
words=(aws-sso-env exec pro); CURRENT=3
_clap_dynamic_completer_aws_sso_env
words=(aws-sso-env "'My T"); CURRENT=2
_clap_dynamic_completer_aws_sso_env
"#;
    let code = code.replace("$SCRIPT", &script("zsh", "aws-sso-env").display().to_string());
    let out = run_shell(&f.sandbox, "zsh", &code);
    assert_eq!(
        lines(&out),
        [
            "_clap_dynamic_completer_aws_sso_env",
            "prod-eu:444444444444",
            "production:111111111111",
            "My Team's Sandbox:333333333333"
        ]
    );
}

#[test]
fn elvish_completes_with_the_generated_script() {
    if !shells::require("elvish") {
        return;
    }
    let f = logged_in();
    // `edit:` exists only in an interactive elvish, so the script is evaluated with the
    // completer table renamed to a variable of ours; everything else runs as written.
    let text = std::fs::read_to_string(script("elvish", "aws-sso-env")).expect("script");
    assert!(text.contains("set edit:completion:arg-completer[aws-sso-env] = "), "{text}");
    let renamed = f.sandbox.path().join("aws-sso-env.elv");
    std::fs::write(&renamed, text.replace("edit:completion:arg-completer", "completers"))
        .expect("write");
    let code = r#"
var completers = [&]
eval &ns=(ns [&completers=[&]]) &on-end={|n| set completers = $n[completers] } (slurp < $SCRIPT)
$completers[aws-sso-env] aws-sso-env exec pro
echo '#'
$completers[aws-sso-env] aws-sso-env staging D
echo '#'
$completers[aws-sso-env] aws-sso-env "My T"
"#;
    let code = code.replace("$SCRIPT", &format!("'{}'", renamed.display()));
    let out = run_shell(&f.sandbox, "elvish", &code);
    // elvish quotes the candidates itself: they come back as plain values.
    assert_eq!(lines(&out), ["prod-eu", "production", "#", "Developer", "#", "My Team's Sandbox"]);
}

#[test]
fn fish_completes_with_the_generated_script() {
    if !shells::require("fish") {
        return;
    }
    let f = logged_in();
    let code = r#"
source "$SCRIPT"
complete -C'aws-sso-env exec pro'
complete -C'aws-sso-env staging '
complete -C'aws-sso-env My'
"#;
    let code = code.replace("$SCRIPT", &script("fish", "aws-sso-env").display().to_string());
    let out = run_shell(&f.sandbox, "fish", &code);
    let out: Vec<String> = lines(&out).into_iter().filter(|l| !l.starts_with('-')).collect();
    assert_eq!(
        out,
        [
            "prod-eu\t444444444444",
            "production\t111111111111",
            "Developer\tstaging",
            "My Team's Sandbox\t333333333333"
        ]
    );
}

#[test]
fn every_binary_has_its_scripts() {
    for bin in ["aws-sso", "aws-sso-login", "aws-sso-ls", "aws-sso-env"] {
        for shell in ["bash", "zsh", "fish", "elvish"] {
            let text = std::fs::read_to_string(script(shell, bin)).expect("completion script");
            // Each asks the binary itself, naming the shell.
            let names_shell = [format!("COMPLETE=\"{shell}\""), format!("COMPLETE={shell} ")];
            let runs_bin = [format!("\"{bin}\" -- "), format!(" {bin} -- ")];
            assert!(names_shell.iter().any(|a| text.contains(a.as_str())), "{shell} {bin}: {text}");
            assert!(runs_bin.iter().any(|a| text.contains(a.as_str())), "{shell} {bin}: {text}");
        }
    }
}
