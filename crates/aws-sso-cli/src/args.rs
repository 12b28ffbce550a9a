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
        let printer = Printer::new(self.quiet, self.color, &env);
        (env, printer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
