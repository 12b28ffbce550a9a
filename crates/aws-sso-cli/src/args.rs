//! The flags every binary takes (docs/ARCHITECTURE.md §7).

use aws_sso_core::env::Environment;
use aws_sso_core::session::SessionRequest;
use clap::{Args, ValueEnum};

use crate::{Printer, init_logging};

#[derive(Debug, Args, Clone, Default)]
pub struct SessionArgs {
    /// The [sso-session] of ~/.aws/config to use.
    #[arg(long, value_name = "NAME", env = "AWS_SSO_SESSION", global = true,
          add = crate::complete::sso_session_completer())]
    pub sso_session: Option<String>,

    /// Use the sso-session (or legacy sso_start_url) of this profile. Default: AWS_PROFILE.
    #[arg(long, value_name = "NAME", global = true, add = crate::complete::profile_completer())]
    pub profile: Option<String>,
}

impl SessionArgs {
    /// The session these flags ask for (a project file's own choice is added where one applies).
    pub fn request(&self) -> SessionRequest {
        SessionRequest {
            sso_session: self.sso_session.clone(),
            profile: self.profile.clone(),
            project_session: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    #[command(flatten)]
    pub session: SessionArgs,

    /// More diagnostics on stderr (-vv for even more). AWS_SSO_LOG sets a filter.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to use colors.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

impl GlobalArgs {
    /// What every binary does once its command line is parsed: read the environment, set up
    /// logging as `-v`/`-q` and `AWS_SSO_LOG` say, and make the printer.
    pub fn start(&self, name: &'static str) -> (Environment, Printer) {
        let env = Environment::from_process();
        init_logging(name, self.verbose, self.quiet, &env);
        survive_the_file_size_limit();
        let printer = Printer::new(self.quiet, self.color, &env);
        (env, printer)
    }
}

/// Writing past the file-size limit (`ulimit -f`) raises SIGXFSZ, whose default kills the
/// process without a word and leaves its temporary file. Once any handler is installed the
/// write fails with EFBIG instead, which the writers report and clean up as a full disk;
/// tokio's handler (it only records the signal) is the one std-safe Rust can install, and it
/// stays for the life of the process. It needs a runtime, so it is installed only when a limit
/// is set: the usual unlimited case costs one getrlimit, no runtime.
fn survive_the_file_size_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit};
        use tokio::signal::unix::{SignalKind, signal};
        if getrlimit(Resource::Fsize).current.is_none() {
            return;
        }
        let xfsz = SignalKind::from_raw(rustix::process::Signal::XFSZ.as_raw());
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_io().build() {
            let _inside = runtime.enter();
            if let Err(e) = signal(xfsz) {
                tracing::debug!("no SIGXFSZ handler: {e}");
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The longest region name taken; the longest real one is 14 characters.
const MAX_REGION: usize = 32;

/// `--region`: an AWS region name such as `eu-west-1`, `us-gov-west-1` or `eu-isoe-west-1`
/// (letters, then dash-separated words, then a number), so nothing else reaches a URL or a file.
pub fn parse_region(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let letters = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let ok = text.len() <= MAX_REGION
        && parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(letters)
        && parts[0].len() >= 2
        && parts.last().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(text.to_owned())
    } else {
        Err("expected an AWS region such as us-east-1, eu-west-1 or us-gov-west-1".to_owned())
    }
}

/// An account or role name given on the command line: not empty, and no control characters
/// (a newline would split the line it is written or printed on).
pub fn parse_name(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("it is empty; give an account id or name, or a role name".to_owned())
    } else if text.chars().any(char::is_control) {
        Err("it holds a line break or another control character; give the name alone".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

/// A value written on one line of `~/.aws/config`: no line break or other control character,
/// which would start a continuation line or a new key.
pub fn parse_config_value(text: &str) -> Result<String, String> {
    if text.chars().any(char::is_control) {
        Err("it holds a line break or another control character, which ~/.aws/config cannot hold on one line".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_of_every_partition_pass_and_anything_else_fails() {
        for good in ["us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1"] {
            assert_eq!(parse_region(good).as_deref(), Ok(good));
        }
        let long = "a".repeat(5000);
        for bad in ["", "eu-west", "euwest1", "eu-west-1\n", "eu-west-1\nx = y", "EU-WEST-1", &long]
        {
            assert!(parse_region(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn names_must_be_non_empty_without_control_characters() {
        assert_eq!(parse_name("Prod Account").as_deref(), Ok("Prod Account"));
        for bad in ["", "  ", "Admin\n", "a\u{1b}[31m", "a\rb"] {
            assert!(parse_name(bad).is_err(), "{bad:?} passed");
        }
        assert!(parse_config_value("sso:account:access,codecatalyst:read_write").is_ok());
        assert!(parse_config_value("sso:account:access\nsso_region = x").is_err());
        assert!(parse_config_value("a\tb").is_err());
    }
}
