//! The command line of `aws-sso-ls`.

use std::ffi::OsStr;

use aws_sso_cli::GlobalArgs;
use aws_sso_cli::complete;
use clap::{Parser, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

/// List every AWS account and role you can reach through IAM Identity Center.
///
/// Reads the account cache while it is fresh (24 h by default, `account_cache_ttl` in
/// config.yaml) and fetches from the portal otherwise, at the portal's rate limit. Every FILTER
/// term must match the account id, the account name or the role, case-insensitively: an id
/// prefix or a few letters of a name are enough.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-ls", version)]
pub struct Cli {
    /// Terms that every listed row must match.
    #[arg(value_name = "FILTER", add = ArgValueCompleter::new(|current: &OsStr| complete::filter_terms(crate::command, current)))]
    pub filter: Vec<String>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// List accounts only, without their roles (one paged call, no call per account).
    #[arg(long)]
    pub accounts: bool,

    /// Fetch from the portal even when the cache is fresh.
    #[arg(long)]
    pub refresh: bool,

    /// Show the e-mail address of each account too.
    #[arg(long)]
    pub wide: bool,

    /// Write one [profile] per account and role into ~/.aws/config, in a marked block.
    #[arg(long, conflicts_with = "accounts")]
    pub write_profiles: bool,

    /// Prefix of the written profile names.
    #[arg(long, value_name = "PREFIX", default_value = "", requires = "write_profiles")]
    pub prefix: String,

    /// Profile name template: {account_name}, {account_id}, {role}, {session}. Default:
    /// config.yaml's profile_template, else {account_name}.{role}.
    #[arg(long, value_name = "TEMPLATE", requires = "write_profiles")]
    pub template: Option<String>,

    /// The region of the written profiles. Default: config.yaml's profile_region, else the
    /// SSO region of the session.
    #[arg(long, value_name = "REGION", requires = "write_profiles", value_parser = aws_sso_cli::parse_region)]
    pub region: Option<String>,

    /// Print the change to ~/.aws/config as a diff, and write nothing.
    #[arg(long, requires = "write_profiles")]
    pub dry_run: bool,

    /// Remove written profiles whose account or role is gone.
    #[arg(long, requires = "write_profiles")]
    pub prune: bool,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Columns for people.
    Table,
    /// An array of accounts, each with its roles.
    Json,
    /// Comma-separated, with a header.
    Csv,
    /// `ACCOUNT_ID ROLE` per line, for scripts.
    Ids,
}
