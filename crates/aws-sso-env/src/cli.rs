//! The command line of `aws-sso-env`.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use aws_sso_cli::GlobalArgs;
use aws_sso_cli::complete;
use aws_sso_core::console::Destination;
use aws_sso_core::shell::Shell;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

/// AWS role credentials from IAM Identity Center: for a shell, a command, or any SDK.
///
/// The account and role come from ACCOUNT [ROLE] (an account id, a name, or any part of a name
/// that names one account; the role may be left out when the account has only one), else the
/// nearest .aws-sso.yaml (once allowed with `aws-sso-env allow`), else AWS_PROFILE's
/// sso_account_id and sso_role_name (or, for a profile with role_arn and source_profile, the
/// role it assumes from them). At a terminal, naming nothing (or a name that matches
/// several accounts) opens a picker. Credentials are reused from ~/.aws/cli/cache, shared with
/// the AWS CLI, while they last.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-env", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub role: RoleArgs,

    /// How to print the credentials.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Env)]
    pub format: FormatArg,

    /// The region to export (AWS_REGION, AWS_DEFAULT_REGION); default: the project file's or
    /// the profile's.
    #[arg(long, value_name = "REGION", value_parser = aws_sso_cli::parse_region)]
    pub region: Option<String>,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RoleArgs {
    /// The account: its id, its name, or any part of its name that names one account.
    #[arg(value_name = "ACCOUNT", value_parser = aws_sso_cli::parse_name, add = ArgValueCompleter::new(|current: &OsStr| complete::accounts(crate::command, current)))]
    pub account: Option<String>,

    /// The role; may be left out when the account has only one.
    #[arg(value_name = "ROLE", value_parser = aws_sso_cli::parse_name, add = ArgValueCompleter::new(|current: &OsStr| complete::roles(crate::command, current)))]
    pub role: Option<String>,

    /// Assume this role (its ARN) from the role named, with STS AssumeRole, and give its
    /// credentials; cached in ~/.aws/cli/cache, shared with the AWS CLI.
    #[arg(long, value_name = "ROLE_ARN", value_parser = parse_role_arn)]
    pub assume_role: Option<String>,
}

/// A role ARN, as `--assume-role` takes it.
fn parse_role_arn(text: &str) -> Result<String, String> {
    match aws_sso_core::config::parse_role_arn(text) {
        Some(_) => Ok(text.trim().to_owned()),
        None => Err("not a role ARN; write arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME".to_owned()),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command with the credentials in its environment (no shell in between).
    Exec(ExecArgs),
    /// Print credentials as an SDK's credential_process expects (Version 1 JSON).
    CredentialProcess(CredentialProcessArgs),
    /// Print an EKS token as kubectl's exec credential plugin expects (ExecCredential JSON).
    ///
    /// The token is a GetCallerIdentity URL presigned with the role's credentials, as `aws eks
    /// get-token` makes it, computed here without starting the AWS CLI and cached (0600) until
    /// a minute before it expires. Never a prompt or a browser: errors are one line on stderr.
    /// In a kubeconfig: `exec: {apiVersion: client.authentication.k8s.io/v1beta1, command:
    /// aws-sso-env, args: [eks-token, --cluster, NAME, ACCOUNT, ROLE], interactiveMode: Never}`.
    EksToken(EksTokenArgs),
    /// Trust a .aws-sso.yaml (this exact content): the shell hook and aws-sso-env use it.
    Allow(PathArgs),
    /// Stop trusting a .aws-sso.yaml.
    Deny(PathArgs),
    /// Open the AWS console in a browser, signed in as the account and role.
    ///
    /// The role credentials are traded for a sign-in link at the federation endpoint of their
    /// partition (AWS_SSO_FEDERATION_ENDPOINT overrides it). The link is itself a credential:
    /// anyone who opens it within 15 minutes is signed in as the role. With --portal, the access
    /// portal's shortcut link is opened instead: no credentials, no request from here.
    Console(ConsoleArgs),
    /// Show the project file in effect, its account and role, and how long credentials last.
    Status(StatusArgs),
    /// Print the shell integration: credentials follow you into directories with a .aws-sso.yaml.
    ///
    /// Add `eval "$(aws-sso-env init bash)"` to ~/.bashrc, `eval "$(aws-sso-env init zsh)"` to
    /// ~/.zshrc, or `aws-sso-env init fish | source` to ~/.config/fish/config.fish.
    Init(InitArgs),
    /// Shell code for the shell integration's prompt hook (run by the script `init` prints).
    #[command(hide = true)]
    Hook(HookArgs),
    /// Shell code that makes the current shell use an account and role, in every directory,
    /// until `--clear` (run by the `aws-sso` shell function that `init` defines, for
    /// `aws-sso use`).
    #[command(hide = true)]
    Use(UseArgs),
}

/// `aws-sso use [ACCOUNT [ROLE]]`, `aws-sso use --clear`.
#[derive(Debug, Args)]
#[command(override_usage = "aws-sso use [OPTIONS] <ACCOUNT> [ROLE]\n       aws-sso use --clear")]
pub struct UseArgs {
    #[command(flatten)]
    pub role: RoleArgs,

    /// Stop using the account and role: the shell gets back what it had before (or the
    /// project file's credentials).
    #[arg(long, conflicts_with_all = ["account", "role"])]
    pub clear: bool,

    /// The shell that evaluates the output (the shell function passes it).
    #[arg(long, value_name = "SHELL", value_parser = shell_parser(), hide = true)]
    pub shell: Option<Shell>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub role: RoleArgs,

    /// The region to export; default: the project file's or the profile's.
    #[arg(long, value_name = "REGION", value_parser = aws_sso_cli::parse_region)]
    pub region: Option<String>,

    /// Run even inside another `aws-sso-env exec`, replacing its credentials.
    #[arg(long)]
    pub overwrite: bool,

    /// Give the command a credentials endpoint instead of keys: a server on 127.0.0.1 that
    /// hands out fresh role credentials for as long as the command runs (any AWS SDK reads
    /// AWS_CONTAINER_CREDENTIALS_FULL_URI). The exit status is the command's.
    #[arg(long)]
    pub server: bool,

    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub role: RoleArgs,

    /// The region the console opens in, the destination's too unless its URL names one;
    /// default: the project file's or the profile's.
    #[arg(long, value_name = "REGION", value_parser = aws_sso_cli::parse_region)]
    pub region: Option<String>,

    /// Where to land instead of the start page: a console URL, e.g.
    /// https://console.aws.amazon.com/ec2/home, or a service name (s3, ec2, lambda, iam, …) for
    /// that service's home in the region.
    #[arg(long, value_name = "URL|SERVICE", value_parser = parse_destination)]
    pub destination: Option<Destination>,

    /// Open the access portal's shortcut link for the account and role instead of signing in
    /// here: the browser's portal session signs in, and a multi-session console keeps its
    /// other sessions. Needs no role credentials and makes no request (names are looked up in
    /// the account list cache only).
    #[arg(long)]
    pub portal: bool,

    /// Print the link on stdout instead of opening a browser. A sign-in link signs anyone in as
    /// the role for 15 minutes: do not paste it anywhere others can read it (a --portal link
    /// holds no credential).
    #[arg(long)]
    pub print: bool,
}

/// `--destination`: checked as it is parsed, so a typo is a usage error before any request.
fn parse_destination(text: &str) -> Result<Destination, String> {
    text.parse::<Destination>().map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct EksTokenArgs {
    /// The cluster's name, as EKS knows it (signed into the token as x-k8s-aws-id).
    #[arg(long, value_name = "NAME", value_parser = aws_sso_cli::parse_name)]
    pub cluster: String,

    /// The cluster's region; default: the project file's or the profile's region, else
    /// AWS_REGION, else the SSO region.
    #[arg(long, value_name = "REGION", value_parser = aws_sso_cli::parse_region)]
    pub region: Option<String>,

    #[command(flatten)]
    pub role: RoleArgs,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub role: RoleArgs,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// A .aws-sso.yaml, or a directory holding one. Default: the nearest one from here up.
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The shell to print the integration for.
    #[arg(value_name = "SHELL", value_parser = shell_parser())]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The shell that evaluates the output.
    #[arg(value_name = "SHELL", value_parser = shell_parser())]
    pub shell: Shell,
}

/// `bash`, `zsh` or `fish`, offered as such in `--help` and completion.
fn shell_parser() -> impl clap::builder::TypedValueParser<Value = Shell> {
    PossibleValuesParser::new(Shell::ALL.map(Shell::name)).try_map(|name| name.parse::<Shell>())
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = StatusFormat::Table)]
    pub output: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

/// `--format`: the names of `aws configure export-credentials`, plus json and dotenv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// `export NAME='value'` for bash, zsh and sh.
    Env,
    /// `NAME='value'`.
    EnvNoExport,
    /// `set -gx NAME 'value'`.
    Fish,
    /// `$Env:NAME = 'value'`.
    Powershell,
    /// `set "NAME=value"`.
    WindowsCmd,
    /// The credential_process JSON (Version 1).
    Process,
    /// One JSON object.
    Json,
    /// `NAME="value"` for .env files.
    Dotenv,
}
