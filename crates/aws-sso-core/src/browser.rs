//! How the tools open a URL in a browser: config.yaml's `browser`, else `$BROWSER`, else the
//! platform's opener (which the binaries call, through the webbrowser crate).

use crate::config::settings::Settings;
use crate::env::{self, Environment};

/// How to open a URL: a command the user chose, or the platform's opener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Browser {
    /// A command line; the URL is appended, or replaces `%s`.
    Command(String),
    Platform,
}

impl Browser {
    /// config.yaml's `browser`, else `$BROWSER`, else the platform's opener. `None` when
    /// `$BROWSER` names no command at all.
    pub fn configured(settings: &Settings, env: &Environment) -> Option<Browser> {
        let configured =
            settings.browser.clone().or_else(|| env.non_empty(env::BROWSER).map(str::to_owned));
        match configured {
            // `$BROWSER` may list several commands separated by `:`; the first is the user's
            // choice.
            Some(list) => list
                .split(':')
                .map(str::trim)
                .find(|c| !c.is_empty())
                .map(|c| Browser::Command(c.to_owned())),
            None => Some(Browser::Platform),
        }
    }

    /// Starts a [`Browser::Command`] on `url` without waiting for it; `Ok(false)` for
    /// [`Browser::Platform`], which the binaries open themselves. Either way `url` must pass
    /// [`check_url`] first, so every URL that reaches a browser, by either path, was checked
    /// here. The command runs through `sh` with the URL as a positional parameter, so no
    /// character of the URL is ever read as shell syntax.
    pub fn start_command(&self, url: &str) -> Result<bool, String> {
        check_url(url)?;
        let Browser::Command(command) = self else { return Ok(false) };
        let script = if command.contains("%s") {
            command.replace("%s", "\"$1\"")
        } else {
            format!("{command} \"$1\"")
        };
        std::process::Command::new("sh")
            .args(["-c", &script, "sh", url])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(|_| true)
            .map_err(|e| format!("could not run the browser command `{command}`: {e}"))
    }
}

/// Whether `url` may be given to a browser: an `https` URL, or plain `http` on this machine's
/// loopback (a local emulator), with no space or control character. The URLs we open come from
/// the service (the device flow's `verificationUriComplete`), so a `file:`, `javascript:` or
/// `-option` value must stop here; an https URL cannot be read as a browser option.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the URL holds a space or a control character, so it was not opened".to_owned());
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("the URL could not be read ({e}), so it was not opened"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        scheme => Err(format!(
            "only https URLs (or http on 127.0.0.1) are opened in a browser, not a {scheme}: URL"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_is_config_yaml_then_the_first_of_browser_then_the_platform() {
        let env = Environment::from_pairs([(env::BROWSER, " : firefox %s:chromium")]);
        let mut settings = Settings::default();
        assert_eq!(
            Browser::configured(&settings, &env),
            Some(Browser::Command("firefox %s".to_owned()))
        );
        settings.browser = Some("open -a Safari".to_owned());
        assert_eq!(
            Browser::configured(&settings, &env),
            Some(Browser::Command("open -a Safari".to_owned()))
        );
        let nothing = Environment::default();
        assert_eq!(Browser::configured(&Settings::default(), &nothing), Some(Browser::Platform));
    }

    #[test]
    fn a_browser_command_gets_the_url_as_one_argument() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("url");
        let script = dir.path().join("browser.sh");
        std::fs::write(&script, format!("printf '%s' \"$1\" > '{}'\n", log.display())).unwrap();
        let browser = Browser::Command(format!("sh {}", script.display()));
        let url = "https://example.com/?a=1&b=$(touch${IFS}x)'`id`;";
        assert_eq!(browser.start_command(url), Ok(true));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read_to_string(&log).unwrap_or_default() != url {
            assert!(std::time::Instant::now() < deadline, "the command never wrote the URL");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(Browser::Platform.start_command(url), Ok(false));
    }

    #[test]
    fn only_https_or_loopback_http_urls_reach_a_browser() {
        for url in [
            "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH",
            "http://127.0.0.1:4000/device?user_code=X",
            "http://localhost:4000/",
        ] {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
        for url in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "-a",
            "--new-window=https://example.com",
            "http://example.com/",
            "https://example.com/\u{1b}[2J",
            "https://example.com/ --option",
            "",
        ] {
            assert!(check_url(url).is_err(), "{url:?} must not be opened");
        }
    }

    #[test]
    fn a_refused_url_never_reaches_the_browser_command() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("ran");
        let script = dir.path().join("browser.sh");
        std::fs::write(&script, format!("printf '%s' \"$1\" > '{}'\n", log.display())).unwrap();
        let browser = Browser::Command(format!("sh {}", script.display()));
        for url in ["file:///etc/passwd", "javascript:alert(1)", "-a"] {
            let err = browser.start_command(url).expect_err(url);
            assert!(err.contains("not opened") || err.contains("only https"), "{err}");
            assert!(Browser::Platform.start_command(url).is_err(), "{url}");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!log.exists(), "the browser command ran");
    }
}
