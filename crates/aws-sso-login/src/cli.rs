//! The command line of `aws-sso-login`: the one source of truth for flags and help.

use aws_sso_cli::GlobalArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Log in to AWS IAM Identity Center, and keep the login the AWS CLI and SDKs share.
///
/// Without a subcommand, logs in: through the browser (authorization code with PKCE), or with a
/// device code on SSH or with --use-device-code. A valid login is reused; one that is about to
/// expire is refreshed without the browser when it can be.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-login", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub login: LoginArgs,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in (the default when no subcommand is given).
    Login(LoginArgs),
    /// Show every configured session: logged in or not, token and registration expiry.
    ///
    /// With --sso-session NAME or --profile NAME, only that session.
    Status(StatusArgs),
    /// Log out: end the session on the service and remove its token and role credentials.
    Logout(LogoutArgs),
    /// Add or update an [sso-session] in ~/.aws/config, keeping everything else in the file.
    Configure(ConfigureArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct LoginArgs {
    /// Use the device-code flow: approve on any device with a code (the default over SSH).
    #[arg(long)]
    pub use_device_code: bool,

    /// Do not open a browser; only print the URL (and the code).
    #[arg(long)]
    pub no_browser: bool,

    /// Log in again even when the cached login is still valid.
    #[arg(long)]
    pub force: bool,

    /// Log in to every configured session in turn (one browser window at a time), skipping
    /// those still valid or refreshable, then summarize.
    #[arg(long)]
    pub all: bool,

    /// How long the browser flow waits for the redirect, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, hide = true)]
    pub browser_timeout: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Log out of every session, as `aws sso logout` does (--sso-session and --profile are ignored).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// The start URL of the AWS access portal, e.g. https://d-1234567890.awsapps.com/start.
    #[arg(long, value_name = "URL")]
    pub start_url: Option<String>,

    /// The region of IAM Identity Center, e.g. eu-west-1. A start URL on a custom domain may
    /// leave it out: the first login learns it from where the URL leads.
    #[arg(long, value_name = "REGION", value_parser = aws_sso_cli::parse_region)]
    pub region: Option<String>,

    /// Registration scopes, comma-separated.
    #[arg(long, value_name = "SCOPES", default_value = "sso:account:access",
          value_parser = aws_sso_cli::parse_config_value)]
    pub scopes: String,
}
