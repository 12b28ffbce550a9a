//! A throw-away HOME with its own `~/.aws`, and commands that run in it and nowhere else.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::emulator::{Emulator, bin_dir, bin_in};

/// The config most tests start from: one session, and a profile that uses it.
pub const ONE_SESSION: &str = "\
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 100000000001
sso_role_name = ReadOnlyAccess
region = eu-west-1
";

/// An isolated HOME (with `~/.aws`), an emulator, and a stand-in browser that logs every URL it
/// is asked to open to `browser.log` and then follows it, approving the login.
pub struct Sandbox {
    pub home: TempDir,
    pub emulator: Emulator,
    /// Where the binaries under test are.
    pub bin_dir: PathBuf,
}

impl Sandbox {
    /// A HOME holding `config` as `~/.aws/config`, and an emulator started with `emulator_args`.
    pub fn new(config: &str, emulator_args: &[&str]) -> Self {
        Self::new_in(&bin_dir(), config, emulator_args)
    }

    /// The same, with the binaries of `bin_dir` (`target/release` for the benchmarks).
    pub fn new_in(bin_dir: &Path, config: &str, emulator_args: &[&str]) -> Self {
        let home = tempfile::Builder::new().prefix("aws-sso-test-").tempdir().expect("temp HOME");
        std::fs::create_dir_all(home.path().join(".aws")).expect("mkdir ~/.aws");
        if !config.is_empty() {
            std::fs::write(home.path().join(".aws/config"), config).expect("write config");
        }
        let emulator = Emulator::start_from(bin_dir, emulator_args);
        let sandbox = Self { home, emulator, bin_dir: bin_dir.to_path_buf() };
        sandbox.write_browser();
        sandbox
    }

    /// One run of the shell hook for bash in `dir`, as the shell would start it.
    pub fn hook_in(&self, dir: &Path) -> std::process::Output {
        self.cmd("aws-sso-env")
            .args(["hook", "bash"])
            .current_dir(dir)
            .env("PWD", dir)
            .output()
            .expect("run the hook")
    }

    /// A sandbox with [`ONE_SESSION`], logged in to `corp` on an emulator started with `args`.
    pub fn logged_in(emulator_args: &[&str]) -> Self {
        let sandbox = Self::new(ONE_SESSION, emulator_args);
        let out = sandbox.cmd("aws-sso-login").output().expect("run aws-sso-login");
        assert!(out.status.success(), "login: {}", crate::stderr(&out));
        sandbox
    }

    /// [`Sandbox::logged_in`], with the account list cached by `aws-sso-ls`.
    pub fn listed(emulator_args: &[&str]) -> Self {
        let sandbox = Self::logged_in(emulator_args);
        let out = sandbox.cmd("aws-sso-ls").output().expect("run aws-sso-ls");
        assert!(out.status.success(), "ls: {}", crate::stderr(&out));
        sandbox
    }

    /// Writes our own `config.yaml` (`~/.config/aws-sso/config.yaml` in this HOME).
    pub fn write_settings(&self, yaml: &str) {
        let dir = self.path().join(".config/aws-sso");
        std::fs::create_dir_all(&dir).expect("mkdir ~/.config/aws-sso");
        std::fs::write(dir.join("config.yaml"), yaml).expect("write config.yaml");
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join(".aws/config")
    }

    pub fn sso_cache(&self) -> PathBuf {
        self.path().join(".aws/sso/cache")
    }

    pub fn cli_cache(&self) -> PathBuf {
        self.path().join(".aws/cli/cache")
    }

    /// `~/.aws/sso/cache/<sha1(identifier)>.json`, computed independently of the code under test.
    pub fn token_path(&self, identifier: &str) -> PathBuf {
        self.sso_cache().join(format!("{}.json", sha1_hex(identifier)))
    }

    /// Rewrites the cached token of `identifier` (a session name or start URL) to have ended a
    /// second ago, as the client sees it once its lifetime is over, without waiting for that.
    pub fn expire_token(&self, identifier: &str) {
        let path = self.token_path(identifier);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let mut token: serde_json::Value = serde_json::from_str(&text).expect("token JSON");
        let ended = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - 1)
            .expect("a time a second ago");
        token["expiresAt"] = serde_json::Value::from(ended.to_string());
        std::fs::write(&path, token.to_string()).expect("write the token");
    }

    pub fn browser_log(&self) -> PathBuf {
        self.path().join("browser.log")
    }

    /// The URLs the stand-in browser was asked to open, in order.
    pub fn browser_opens(&self) -> Vec<String> {
        std::fs::read_to_string(self.browser_log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn browser_script(&self) -> PathBuf {
        self.path().join("browser.sh")
    }

    fn write_browser(&self) {
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\nexec '{}' browse \"$1\"\n",
            self.browser_log().display(),
            bin_in(&self.bin_dir, "aws-sso-emulator").display()
        );
        let path = self.browser_script();
        std::fs::write(&path, script).expect("write browser script");
        make_executable(&path);
    }

    /// A command for one of our binaries, with an environment holding only this sandbox: HOME,
    /// the emulator as every endpoint, the stand-in browser, and PATH.
    pub fn cmd(&self, bin: &str) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.std_cmd(bin));
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// The same as a plain `std::process::Command`, for processes run side by side.
    pub fn std_cmd(&self, bin: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin_in(&self.bin_dir, bin));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("AWS_ENDPOINT_URL", &self.emulator.url)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("BROWSER", self.browser_script())
            .env("NO_COLOR", "1");
        cmd
    }

    /// Filters that make output stable across runs: timestamps, durations, ports, this HOME.
    pub fn filters(&self) -> Vec<(String, String)> {
        let home = self.path().display().to_string();
        vec![
            (regex_escape(&home), "[HOME]".to_owned()),
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z".to_owned(), "[TIME]".to_owned()),
            (r"\((in|\d+[dhms]?) [^)]*\)".to_owned(), "([RELATIVE])".to_owned()),
            (r"127\.0\.0\.1:\d+".to_owned(), "127.0.0.1:[PORT]".to_owned()),
            (r"127\.0\.0\.1%3A\d+".to_owned(), "127.0.0.1%3A[PORT]".to_owned()),
            (
                r"\b(client_id|state|code_challenge)=[A-Za-z0-9_\-]+".to_owned(),
                "$1=[$1]".to_owned(),
            ),
        ]
    }
}

/// Makes snapshot filters from [`Sandbox::filters`] and runs `f` under them.
#[macro_export]
macro_rules! with_filters {
    ($sandbox:expr, $body:block) => {{
        let mut settings = insta::Settings::clone_current();
        for (from, to) in $sandbox.filters() {
            settings.add_filter(&from, to);
        }
        settings.bind(|| $body)
    }};
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// SHA-1 as lowercase hex, written here so the tests do not trust the code they check.
pub fn sha1_hex(text: &str) -> String {
    let out = std::process::Command::new("sha1sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha1sum (coreutils) is needed by the tests");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}
