//! What the tests of every syntax share: values that break naive quoting, and real shells to
//! read back what was written.

/// Values that break naive quoting somewhere.
pub(super) const HOSTILE: &[&str] = &[
    "",
    "plain",
    "it's",
    "''",
    "'\\''",
    "\"double\"",
    "$HOME ${HOME} $(id) `id`",
    "back\\slash\\",
    "\\'",
    "two\nlines",
    "trailing newline\n",
    "\ttab and  spaces ",
    "%PATH% !bang! ^caret",
    "{a,b} * ? ~ [x] # ; & | < > ( )",
    "-n",
    "é 日本 😀",
    "‘smart’ quotes",
];

/// A POSIX `printf` of each variable, `=` first when it is set, NUL after each.
pub(super) fn printf_vars(names: &[&str]) -> String {
    let args: Vec<String> = names.iter().map(|n| format!("\"${{{n}+=}}${n}\"")).collect();
    format!("printf \"%s\\0\" {}", args.join(" "))
}

/// What a child process sees: the variables that were exported.
pub(super) fn child_sees(names: &[&str]) -> String {
    format!("sh -c '{}'", printf_vars(names))
}

pub(super) fn parse_vars(out: &[u8], names: &[&str]) -> Vec<(String, Option<String>)> {
    let text = String::from_utf8(out.to_vec()).expect("utf-8 output");
    let fields: Vec<&str> = text.split_terminator('\0').collect();
    assert_eq!(fields.len(), names.len(), "output {text:?}");
    names
        .iter()
        .zip(fields)
        .map(|(n, f)| (n.to_string(), f.strip_prefix('=').map(str::to_owned)))
        .collect()
}

/// Runs `script` with `program -c`, the rendered text on stdin, in an empty environment.
/// `None` (with a notice) when the shell is not installed; a missing sh or bash fails
/// under CI, where every machine has them.
pub(super) fn run_shell(program: &str, script: &str, stdin: &str) -> Option<Vec<u8>> {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let home = tempfile::tempdir().expect("temp home");
    let child = Command::new(program)
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let required = matches!(program, "sh" | "bash");
            if required && std::env::var("CI").as_deref() == Ok("true") {
                panic!("{program} is missing, and every CI machine has it");
            }
            eprintln!("notice: {program} is not installed; its round-trip test is skipped");
            return None;
        }
        Err(e) => panic!("cannot start {program}: {e}"),
    };
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("shell runs");
    assert!(
        out.status.success(),
        "{program} failed: {}\n--- input ---\n{stdin}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

/// How each shell reads the text on its stdin into itself.
pub(super) fn eval_stdin(program: &str) -> &'static str {
    if program == "fish" { "cat | source" } else { "eval \"$(cat)\"" }
}

/// One value with everything a shell could act on: both quotes, `$` and `$(…)`, backticks, `;`,
/// a backslash and a line break. The snapshot of each syntax shows how it is written.
pub(super) const ATTACK: &str = "it's \"$HOME\" `id` $(id); rm -rf ~ \\\nsecond line";

/// The path of the binary in the snapshots of the init scripts: a space and a quote in it.
pub(super) const EXE: &str = "/home/o'neil/my tools/aws-sso-env";

/// What a snapshot shows for a line or a word: the text, or why it is refused.
pub(super) fn shown(written: Result<String, super::Unwritable>) -> String {
    written.unwrap_or_else(|what| format!("refused: the value holds {what}\n"))
}
