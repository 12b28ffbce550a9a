//! The flags every binary takes (DESIGN.md §7).

use clap::{Args, ValueEnum};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
