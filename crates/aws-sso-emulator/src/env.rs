//! `aws-sso-emulator env`: the shell lines that point any AWS tool at a running emulator.
//!
//! It checks that an emulator answers at the URL, writes a throw-away directory (a fresh one,
//! 0700, never an existing one) holding an AWS config file (0600) with one `[sso-session]` and
//! one profile, and a browser script (0700) that runs `aws-sso-emulator browse`, and prints the
//! variables for bash, zsh or fish: the SSO and SSO OIDC endpoints, the console federation
//! endpoint of our own tools, `AWS_CONFIG_FILE`, `AWS_PROFILE` and `BROWSER`, and unsets what
//! would take precedence over them (static keys in the environment, and
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, which would send the tools to AWS itself).
//!
//! `BROWSER` is the path of the script alone: Python's `webbrowser` (botocore, the AWS CLI) runs
//! the value as one program with the URL as its argument, and our tools run it through `sh`
//! with the URL appended; a path made only of safe characters works for both.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The session and profile the config file defines.
pub const NAME: &str = "aws-sso-emulator";
/// The session's start URL: an identifier in the form of an AWS access portal's, which the
/// tools send to the emulator and never open themselves.
const START_URL: &str = "https://d-0000000000.awsapps.com/start";
/// How long `--url-file` is waited for.
const URL_FILE_WAIT: Duration = Duration::from_secs(10);

/// Prints the shell lines that point AWS tools (the AWS CLI v2, botocore and boto3, the SDKs,
/// and aws-sso's own tools) at a running aws-sso-emulator:
///
///   eval "$(aws-sso-emulator env --url http://127.0.0.1:PORT)"        (bash, zsh)
///   aws-sso-emulator env --shell fish --url http://127.0.0.1:PORT | source
///
/// It writes a throw-away directory (named on the first line printed) holding an AWS config file
/// with the [sso-session aws-sso-emulator] and [profile aws-sso-emulator], and the stand-in
/// browser, which approves every login. Tokens go where each tool keeps them, under the session
/// name aws-sso-emulator (for the AWS CLI: ~/.aws/sso/cache). The accounts and roles are the
/// emulator's: its --fixture FILE, or by default 3 generated accounts 100000000001… with the
/// roles AdministratorAccess and ReadOnlyAccess.
#[derive(Debug, clap::Parser)]
#[command(name = "aws-sso-emulator env", long_about, verbatim_doc_comment)]
pub struct EnvArgs {
    /// The emulator's base URL, the first line it printed (http://127.0.0.1:PORT).
    #[arg(long, value_name = "URL")]
    url: Option<String>,

    /// Read the URL from FILE, which the emulator writes when started with --url-file FILE;
    /// waits up to 10 s for it.
    #[arg(long, value_name = "FILE", conflicts_with = "url")]
    url_file: Option<PathBuf>,

    /// The syntax of the lines printed.
    #[arg(long, value_enum, default_value_t = Shell::Bash)]
    shell: Shell,

    /// The profile's sso_account_id.
    #[arg(long, value_name = "ID", default_value = "100000000001")]
    account: String,

    /// The profile's sso_role_name.
    #[arg(long, value_name = "NAME", default_value = "AdministratorAccess")]
    role: String,

    /// The session's sso_region and the profile's region.
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    region: String,

    /// Where to make the throw-away directory; default $TMPDIR, else /tmp.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

pub fn run(args: &[String]) -> anyhow::Result<String> {
    let args = <EnvArgs as clap::Parser>::try_parse_from(
        std::iter::once("aws-sso-emulator env".to_owned()).chain(args.iter().cloned()),
    )
    .unwrap_or_else(|error| error.exit());
    check_account(&args.account)?;
    check_role(&args.role)?;
    check_region(&args.region)?;
    let url = match (&args.url, &args.url_file) {
        (Some(url), _) => url.clone(),
        (None, Some(file)) => read_url_file(file)?,
        (None, None) => bail!(
            "which emulator? Give its URL (the first line it printed) with --url \
             http://127.0.0.1:PORT, or start it with --url-file FILE and give --url-file FILE"
        ),
    };
    let url = check_url(&url)?;
    let program = std::env::current_exe().context("cannot find this program's path")?;
    let base = match &args.dir {
        Some(dir) => dir.clone(),
        None => std::env::var_os("TMPDIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute() && is_safe_path(dir))
            .unwrap_or_else(|| PathBuf::from("/tmp")),
    };
    if !base.is_absolute() || !is_safe_path(&base) {
        bail!(
            "--dir {} must be an absolute path of letters, digits and / . _ + - only, since BROWSER \
             names a file in it and a browser variable cannot quote anything else",
            base.display()
        );
    }
    let dir = make_private_dir(&base)?;
    let config = dir.join("config");
    write_new(&config, 0o600, &config_text(&url, &args))?;
    let browser = dir.join("browser");
    write_new(&browser, 0o700, &browser_script(&program, &url))?;

    let text = |path: &Path| path.display().to_string();
    let set = [
        ("AWS_ENDPOINT_URL_SSO", url.clone()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", url.clone()),
        // AssumeRole and GetCallerIdentity: role chains and EKS tokens stay local too.
        ("AWS_ENDPOINT_URL_STS", url.clone()),
        ("AWS_SSO_FEDERATION_ENDPOINT", url.clone()),
        ("AWS_CONFIG_FILE", text(&config)),
        ("AWS_PROFILE", NAME.to_owned()),
        ("BROWSER", text(&browser)),
    ];
    let unset = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SSO_SESSION",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ];
    let mut out = format!(
        "# aws-sso-emulator at {url}; throw-away files in {} (remove the directory when done)\n",
        dir.display()
    );
    for (name, value) in set {
        out.push_str(&match args.shell {
            Shell::Bash | Shell::Zsh => format!("export {name}={}\n", quote_posix(&value)),
            Shell::Fish => format!("set -gx {name} {}\n", quote_fish(&value)),
        });
    }
    for name in unset {
        out.push_str(&match args.shell {
            Shell::Bash | Shell::Zsh => format!("unset {name}\n"),
            Shell::Fish => format!("set -e {name}\n"),
        });
    }
    out.push_str(
        "# then: aws sso login (or aws-sso-login), and use the profile aws-sso-emulator\n",
    );
    Ok(out)
}

fn config_text(url: &str, args: &EnvArgs) -> String {
    format!(
        "# Written by aws-sso-emulator env for the emulator at {url}; throw-away.\n\
         # The emulator takes any start URL; this one only names the session, nobody contacts it.\n\
         [sso-session {NAME}]\n\
         sso_start_url = {START_URL}\n\
         sso_region = {region}\n\
         sso_registration_scopes = sso:account:access\n\
         \n\
         [profile {NAME}]\n\
         sso_session = {NAME}\n\
         sso_account_id = {account}\n\
         sso_role_name = {role}\n\
         region = {region}\n",
        region = args.region,
        account = args.account,
        role = args.role,
    )
}

fn browser_script(program: &Path, url: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # The stand-in browser for the aws-sso-emulator at {url}: it approves what it is shown.\n\
         exec {} browse \"$1\"\n",
        quote_posix(&program.display().to_string())
    )
}

/// Waits for the emulator to write its URL to `file`, and reads it.
fn read_url_file(file: &Path) -> anyhow::Result<String> {
    let deadline = Instant::now() + URL_FILE_WAIT;
    loop {
        match std::fs::read_to_string(file) {
            Ok(text) if text.ends_with('\n') => return Ok(text.trim().to_owned()),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => bail!("cannot read {}: {error}", file.display()),
        }
        if Instant::now() >= deadline {
            bail!(
                "{} holds no URL after {} s: start the emulator with --url-file {} first, or give \
                 its URL with --url",
                file.display(),
                URL_FILE_WAIT.as_secs(),
                file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `http://127.0.0.1:PORT` (or localhost) where an emulator answers; without a trailing `/`.
fn check_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .or_else(|| url.strip_prefix("http://localhost:"))
        .and_then(|port| port.parse::<u16>().ok());
    if port.is_none_or(|port| port == 0) {
        bail!(
            "`{url}` is not the URL of an emulator: give http://127.0.0.1:PORT, the first line \
             aws-sso-emulator prints"
        );
    }
    match crate::browse::request("GET", &format!("{url}/_emulator/clock")) {
        Ok((200, body)) if body.contains("offsetMs") => Ok(url.to_owned()),
        Ok((status, _)) => bail!(
            "what answers at {url} is not aws-sso-emulator (GET /_emulator/clock answered {status})"
        ),
        Err(error) => bail!(
            "no emulator answers at {url} ({error:#}): start it first (aws-sso-emulator \
             --url-file FILE &) and give that URL"
        ),
    }
}

fn check_account(account: &str) -> anyhow::Result<()> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    bail!("--account `{account}` is not an AWS account id: 12 digits, as 100000000001")
}

fn check_role(role: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if (1..=64).contains(&role.len()) && role.chars().all(allowed) {
        return Ok(());
    }
    bail!(
        "--role `{}` is not an IAM role name: 1 to 64 letters, digits and + = , . @ _ -",
        role.escape_debug()
    )
}

fn check_region(region: &str) -> anyhow::Result<()> {
    let mut parts = region.split('-');
    let ok = region.len() <= 32
        && parts.next().is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()))
        && region.split('-').count() >= 3
        && region
            .rsplit('-')
            .next()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        return Ok(());
    }
    bail!("--region `{}` is not an AWS region, as us-east-1", region.escape_debug())
}

/// Whether a path can go into `BROWSER` unquoted: our tools run it through `sh`, Python splits
/// the variable at `:`.
fn is_safe_path(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|text| text.chars().all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c)))
}

/// A new directory `aws-sso-emulator-env-XXXXXXXX` in `base`, readable by its owner only.
fn make_private_dir(base: &Path) -> anyhow::Result<PathBuf> {
    for _ in 0..8 {
        let mut bytes = [0u8; 6];
        crate::state::fill_random(&mut bytes);
        let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = base.join(format!("aws-sso-emulator-env-{suffix}"));
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => bail!(
                "cannot make a directory in {}: {error}; give a writable one with --dir",
                base.display()
            ),
        }
    }
    bail!("cannot find a new directory name in {}; give another with --dir", base.display())
}

/// Writes a file that must not exist yet.
fn write_new(path: &Path, mode: u32, text: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// A single-quoted word for sh, bash and zsh.
fn quote_posix(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// A single-quoted word for fish, where `\` and `'` are escaped inside quotes.
fn quote_fish(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_each_shell() {
        assert_eq!(quote_posix("a'b $c"), r"'a'\''b $c'");
        assert_eq!(quote_fish(r"a'b\ $c"), r"'a\'b\\ $c'");
    }

    #[test]
    fn bad_flags_are_refused_with_what_is_expected() {
        assert!(check_account("100000000001").is_ok());
        assert!(check_account("1234").unwrap_err().to_string().contains("12 digits"));
        assert!(check_role("ReadOnlyAccess").is_ok());
        assert!(check_role("a\nb").unwrap_err().to_string().contains("IAM role name"));
        assert!(check_region("eu-west-1").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        for bad in ["", "eu", "eu-west", "EU-west-1", "eu-west-1\n[x]", "eu--1"] {
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
        assert!(check_url("https://example.com").unwrap_err().to_string().contains("127.0.0.1"));
        assert!(!is_safe_path(Path::new("/tmp/a b")));
        assert!(!is_safe_path(Path::new("/tmp/a:b")));
        assert!(is_safe_path(Path::new("/tmp/aws-sso.x_1+2")));
    }
}
