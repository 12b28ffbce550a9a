//! Real shells for the hook tests: whether each is installed, and an interactive session of one
//! whose prompt hooks fire, fed a list of command lines, with what it exported at each step.
//!
//! bash and zsh run with `-i` and read their lines from a pipe (their prompt hooks still fire);
//! fish only runs its prompt events on a terminal, so it gets one from `script(1)`. Each step
//! calls `report LABEL`, a small script that saves the environment it inherited, which is what
//! the shell exported at that point.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::sandbox::Sandbox;

/// How long one session may run before it is killed (`timeout(1)`).
const SESSION_TIMEOUT_SECONDS: &str = "120";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// The exit status of the last command, as this shell spells it.
    pub fn status_var(self) -> &'static str {
        match self {
            Shell::Bash | Shell::Zsh => "$?",
            Shell::Fish => "$status",
        }
    }

    /// The line that installs the hook, as the README tells users to write it.
    pub fn init_line(self, bin: &Path) -> String {
        let bin = bin.display();
        match self {
            Shell::Bash | Shell::Zsh => format!("eval \"$('{bin}' init {})\"\n", self.name()),
            Shell::Fish => format!("'{bin}' init fish | source\n"),
        }
    }
}

/// True when `program` can be run. When it cannot: under `CI=true` the test fails (CI installs
/// every shell), else the test is skipped with a visible notice.
pub fn require(program: &str) -> bool {
    if which(program).is_some() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{program} is not installed, and CI needs it: install it (.ci/run does)"
    );
    // A skipped test must be visible in the output of `cargo test`.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("SKIPPED: {program} not installed");
    }
    false
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| {
        use std::os::unix::fs::PermissionsExt;
        candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// One interactive shell in a sandbox's HOME, with its own rc file.
pub struct Session<'a> {
    sandbox: &'a Sandbox,
    shell: Shell,
    rc: String,
    env: Vec<(String, String)>,
    path: Option<String>,
    dir: PathBuf,
}

/// What a session left behind.
#[derive(Debug)]
pub struct Transcript {
    /// The environment at each `report LABEL`, by label.
    pub reports: BTreeMap<String, BTreeMap<String, String>>,
    /// The `aws-sso:` lines the shell printed on stderr, in order.
    pub messages: Vec<String>,
    /// Everything on stderr (bash, zsh) or the terminal (fish), for failure messages.
    pub output: String,
}

impl Transcript {
    /// The environment reported at `label`; panics with the whole output when there is none.
    pub fn at(&self, label: &str) -> &BTreeMap<String, String> {
        self.reports.get(label).unwrap_or_else(|| {
            panic!("no report `{label}` (the session stopped early?); output:\n{}", self.output)
        })
    }

    /// The value of `name` at `label`.
    pub fn var(&self, label: &str, name: &str) -> Option<&str> {
        self.at(label).get(name).map(String::as_str)
    }

    /// The `AWS_*` variables at `label`.
    pub fn aws(&self, label: &str) -> BTreeMap<String, String> {
        self.at(label)
            .iter()
            .filter(|(name, _)| name.starts_with("AWS_"))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

impl<'a> Session<'a> {
    /// `shell` in `sandbox`'s HOME, with the sandbox's environment and its binaries on PATH.
    pub fn new(sandbox: &'a Sandbox, shell: Shell) -> Self {
        let dir = sandbox.path().join(format!("shell-{}", shell.name()));
        std::fs::create_dir_all(dir.join("bin")).expect("mkdir the session's bin");
        std::fs::create_dir_all(dir.join("reports")).expect("mkdir the session's reports");
        let report = "#!/bin/sh\n# Saves the environment this shell exported, for the test to read.\n\
             PATH=/usr/bin:/bin env -0 > \"$TEST_REPORTS_DIR/$1.env\"\n";
        write_executable(&dir.join("bin/report"), report);
        Self { sandbox, shell, rc: String::new(), env: Vec::new(), path: None, dir }
    }

    /// Appends `text` to the rc file (`.bashrc`, `.zshrc`, `config.fish`).
    pub fn rc(mut self, text: &str) -> Self {
        self.rc.push_str(text);
        if !text.ends_with('\n') {
            self.rc.push('\n');
        }
        self
    }

    /// Exports `name=value` to the shell from the start.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs the shell with only `report` on PATH (and `extra`), so that any other command the
    /// prompt machinery started would fail loudly with "command not found".
    pub fn bare_path(mut self, extra: &[&Path]) -> Self {
        let mut dirs = vec![self.dir.join("bin")];
        dirs.extend(extra.iter().map(|dir| dir.to_path_buf()));
        let joined = std::env::join_paths(dirs).expect("PATH");
        self.path = Some(joined.to_string_lossy().into_owned());
        self
    }

    /// Runs `lines` in the shell, from the sandbox's HOME, then `exit`.
    pub fn run(self, lines: &[String]) -> Transcript {
        let home = self.sandbox.path();
        let mut input = lines.join("\n");
        input.push_str("\nexit\n");
        let base = self.sandbox.std_cmd("aws-sso-env");
        let path = self.path.clone().unwrap_or_else(|| {
            let outer = std::env::var_os("PATH").unwrap_or_default();
            let dirs = [self.dir.join("bin"), self.sandbox.bin_dir.clone()]
                .into_iter()
                .chain(std::env::split_paths(&outer));
            std::env::join_paths(dirs).expect("PATH").to_string_lossy().into_owned()
        });
        let err_file = self.dir.join("stderr");
        let program = |name: &str| which(name).unwrap_or_else(|| panic!("{name} is not installed"));
        let mut cmd = Command::new(program("timeout"));
        let shell_bin = program(self.shell.name());
        cmd.arg(SESSION_TIMEOUT_SECONDS);
        match self.shell {
            Shell::Bash => {
                std::fs::write(home.join(".bashrc"), &self.rc).expect("write .bashrc");
                cmd.arg(&shell_bin).args(["--noprofile", "--rcfile"]).arg(home.join(".bashrc"));
                cmd.arg("-i");
            }
            Shell::Zsh => {
                std::fs::write(home.join(".zshrc"), &self.rc).expect("write .zshrc");
                cmd.arg(&shell_bin).args(["-d", "-i"]).env("ZDOTDIR", home);
            }
            Shell::Fish => {
                let config = home.join(".config/fish");
                std::fs::create_dir_all(&config).expect("mkdir ~/.config/fish");
                // Else fish's first interactive start in a new HOME spawns a python job that
                // reads every man page for minutes, outliving the test and loading the machine.
                std::fs::create_dir_all(home.join(FISH_GENERATED_COMPLETIONS))
                    .expect("mkdir fish's generated completions");
                // A plain prompt: the default one runs git and friends.
                let rc = format!(
                    "function fish_prompt; echo -n '$ '; end\nfunction fish_greeting; end\n{}",
                    self.rc
                );
                std::fs::write(config.join("config.fish"), rc).expect("write config.fish");
                let inner = format!(
                    "{} -i 2>{}",
                    sh_quote(&shell_bin.to_string_lossy()),
                    sh_quote(&err_file.to_string_lossy())
                );
                cmd.arg(program("script")).args(["-q", "-e", "-c", &inner, "/dev/null"]);
            }
        }
        cmd.env_clear();
        for (name, value) in base.get_envs() {
            if let Some(value) = value {
                cmd.env(name, value);
            }
        }
        cmd.env("PATH", &path)
            .env("TERM", "dumb")
            .env("TEST_REPORTS_DIR", self.dir.join("reports"))
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .current_dir(home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the shell");
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input.as_bytes()).expect("feed the shell");
        }
        let out = child.wait_with_output().expect("wait for the shell");
        let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
        if self.shell == Shell::Fish {
            output = std::fs::read_to_string(&err_file).unwrap_or_default();
            output.push_str("\n--- terminal ---\n");
            output.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        assert_ne!(
            out.status.code(),
            Some(124),
            "{} did not finish within {SESSION_TIMEOUT_SECONDS} s; output:\n{output}",
            self.shell.name()
        );
        let messages = output
            .lines()
            .filter_map(|line| line.find("aws-sso:").map(|at| line[at..].trim_end().to_owned()))
            .collect();
        Transcript { reports: read_reports(&self.dir.join("reports")), messages, output }
    }
}

fn read_reports(dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reports = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read the reports").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(label) = name.strip_suffix(".env") else { continue };
        let bytes = std::fs::read(entry.path()).expect("read a report");
        let vars = bytes
            .split(|b| *b == 0)
            .filter_map(|pair| {
                let pair = String::from_utf8_lossy(pair);
                let (name, value) = pair.split_once('=')?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        reports.insert(label.to_owned(), vars);
    }
    reports
}

/// Where fish keeps the completions it generates from man pages; when the directory is missing,
/// an interactive fish starts generating them in the background.
pub const FISH_GENERATED_COMPLETIONS: &str = ".local/share/fish/generated_completions";

/// POSIX single quotes, written here so the tests do not trust the code they check.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Writes an executable script.
pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write a script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A command line that returns once the refresh time the hook set (whole seconds) has come, so
/// the next prompt is due to refresh; polls every 50 ms, gives up after about 5 s. The shells
/// read the time with `time(2)`, whose coarse clock may lag `date`'s by a tick of the kernel
/// (a few milliseconds): the extra 0.1 s lets it catch up, else the prompt could still find the
/// refresh time ahead.
pub fn until_refresh_time_passed(shell: Shell) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => "for i in $(seq 100); do \
             [ \"$(date +%s)\" -ge \"${_AWS_SSO_REFRESH_AT:-0}\" ] && break; sleep 0.05; done; \
             sleep 0.1"
            .to_owned(),
        Shell::Fish => "for i in (seq 100); test (date +%s) -ge \"$_AWS_SSO_REFRESH_AT\"; \
             and break; sleep 0.05; end; sleep 0.1"
            .to_owned(),
    }
}
