//! The one error type of the library, and how it maps to exit codes.
//!
//! Every module has its own error enum with the context a person needs (which file, which
//! session, which command fixes it); [`Error`] only gathers them. The flows that return it
//! (resolution, credentials) keep their own failures here too, so that this module depends only
//! on the modules below those flows and never on a flow. No variant ever holds a token,
//! a secret or a session token.

use crate::cache::AccountLookupError;
use crate::shell::CommandLine;
use crate::target::SessionTarget;
use crate::{
    cache, config, console, endpoint, http, lock, oidc, portal, shell, start_url, target, trust,
};

pub use crate::exit::ErrorKind;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Endpoint(#[from] endpoint::EndpointError),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error(transparent)]
    Login(#[from] oidc::LoginError),
    #[error(transparent)]
    Session(#[from] target::SessionError),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Trust(#[from] trust::TrustError),
    #[error(transparent)]
    Shell(#[from] shell::ShellError),
    #[error(transparent)]
    Console(#[from] console::ConsoleError),
    #[error(transparent)]
    StartUrl(#[from] start_url::StartUrlError),
    #[error("{}", index_failure(session, looking_for.as_deref(), error))]
    AccountIndex {
        session: String,
        /// The session whose list it is, for a login when the portal refused the token.
        target: Box<SessionTarget>,
        /// The account name the index was fetched to find.
        looking_for: Option<String>,
        error: Box<portal::listing::IndexError>,
    },
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl From<lock::LockError> for Error {
    fn from(e: lock::LockError) -> Self {
        Error::Cache(e.into())
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            // Naming a session that is not there is a usage error, like an unknown flag.
            Error::Config(config::ConfigError::SsoSessionNotFound { .. }) => ErrorKind::Usage,
            Error::Config(_) | Error::Endpoint(_) | Error::Cache(_) | Error::Login(_) => {
                ErrorKind::Failure
            }
            Error::Http(e) if e.is_unauthorized() => ErrorKind::NotLoggedIn,
            Error::Http(_) => ErrorKind::Failure,
            Error::AccountIndex { error, .. } if error.is_unauthorized() => ErrorKind::NotLoggedIn,
            Error::AccountIndex { .. } => ErrorKind::Failure,
            Error::Session(e) => e.kind(),
            Error::Credentials(e) => e.kind(),
            Error::Resolve(e) => e.kind(),
            Error::Chain(e) => e.kind(),
            Error::Trust(_) | Error::Shell(_) | Error::Console(_) => ErrorKind::Failure,
            Error::StartUrl(e) => e.kind(),
            Error::Runtime(_) => ErrorKind::Failure,
        }
    }

    /// The session a login would fix this error for: set exactly when the error is that the
    /// session is not logged in, its login expired beyond refresh, or the portal refused it (and
    /// a session is known), so a command at a terminal can offer that login and run again.
    pub fn needs_login(&self) -> Option<&SessionTarget> {
        if self.kind() != ErrorKind::NotLoggedIn {
            return None;
        }
        match self {
            Error::Session(e) => e.needs_login(),
            Error::Credentials(CredentialsError::LoginRejected { target, .. }) => Some(target),
            Error::AccountIndex { target, .. } => Some(target),
            Error::Chain(ChainError::SourceNeedsLogin { error, .. }) => error.needs_login(),
            _ => None,
        }
    }
}

/// `aws-sso-ls --refresh`, with the flags that choose the session when there are any.
fn refresh_command(selector: &str) -> String {
    if selector.is_empty() {
        "aws-sso-ls --refresh".to_owned()
    } else {
        format!("aws-sso-ls --refresh {selector}")
    }
}

fn index_failure(
    session: &str,
    looking_for: Option<&str>,
    error: &portal::listing::IndexError,
) -> String {
    let so = looking_for
        .map(|name| format!(", so \"{}\" could not be resolved", shell::printable(name)))
        .unwrap_or_default();
    // A dead login's own words say to log in; anything else may pass.
    let then = if error.is_unauthorized() {
        ""
    } else {
        ". The accounts cached before, if any, are kept; try again"
    };
    format!("the account list of {session} could not be fetched{so}: {error}{then}")
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "No account and role given. Name them (aws-sso-env ACCOUNT ROLE), put a .aws-sso.yaml with `account:` and `role:` in the project and run `aws-sso-env allow`, or set AWS_PROFILE to a profile with sso_account_id and sso_role_name."
    )]
    NothingNamed,
    #[error(
        "{path} names the account but is not allowed yet. Review it, then run: {}",
        allow_command(path)
    )]
    ProjectNotAllowed { path: String },
    #[error("{path} changed since it was allowed. Review it, then run: {}", allow_command(path))]
    ProjectChanged { path: String },
    #[error(
        "{path} names account {account}, which was {allowed} when the file was allowed but is now {now}, so it is not used. Review it, then run: {}",
        allow_command(path)
    )]
    ProjectAccountChanged { path: String, account: String, allowed: String, now: String },
    #[error("The profile \"{profile}\" has no {missing}, so it does not name an account and role.")]
    ProfileIncomplete { profile: String, missing: &'static str },
    #[error("{0}")]
    Lookup(#[from] AccountLookupError),
    #[error(
        "Account {account} has {count} roles ({roles}); name one: {}",
        CommandLine::new("aws-sso-env").arg(account_arg).literal("ROLE")
    )]
    RoleNeeded { account: String, account_arg: String, count: usize, roles: String },
    #[error("Account {account} has no role you can use.")]
    NoRoles { account: String },
    #[error("Account {account} has no role matching \"{role}\". Its roles: {roles}.")]
    NoSuchRole { account: String, role: String, roles: String },
    #[error(
        "the account list of {session} does not know this account or its roles, and could not be fetched now; fetch it with: {}",
        refresh_command(selector)
    )]
    AccountListUnreadable {
        session: String,
        /// The flags that choose the session again (`--sso-session corp`), or nothing.
        selector: String,
    },
    #[error(
        "cannot read the current directory (was it deleted?); cd into an existing directory and run the command again"
    )]
    NoCurrentDir,
}

impl ResolveError {
    /// [`ResolveError::AccountListUnreadable`] for `target`.
    pub fn account_list_unreadable(target: &crate::target::SessionTarget) -> Self {
        ResolveError::AccountListUnreadable {
            session: target.display_name(),
            selector: target.selector(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ResolveError::ProjectNotAllowed { .. }
            | ResolveError::ProjectChanged { .. }
            | ResolveError::ProjectAccountChanged { .. }
            | ResolveError::AccountListUnreadable { .. }
            | ResolveError::NoCurrentDir => ErrorKind::Failure,
            _ => ErrorKind::Usage,
        }
    }
}

/// Why a chained role (`role_arn` with `source_profile`, or a project file's `assume_role`)
/// cannot be reached. Each names the profile, its file and the fix, on one line.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "The profile \"{}\" in {file} has role_arn = \"{}\", which is not a role ARN: set it to arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME.",
        shell::printable(profile),
        shell::printable(value)
    )]
    NotAnArn { profile: String, file: String, value: String },
    #[error(
        "The profile \"{}\" in {file} has role_arn but no source_profile: add source_profile = NAME, naming a profile that signs in with IAM Identity Center (or one chained to it).",
        shell::printable(profile)
    )]
    NoSourceProfile { profile: String, file: String },
    #[error(
        "The source_profile \"{}\" of the profile \"{}\" does not exist in {file}: fix source_profile, or add [profile {}].{near}",
        shell::printable(source_profile),
        shell::printable(profile),
        shell::printable(source_profile)
    )]
    MissingSource { profile: String, source_profile: String, file: String, near: String },
    #[error(
        "The source_profile \"{}\" of the profile \"{}\" in {file} has no credentials aws-sso-env can get: a chain starts at a profile with sso_session (or sso_start_url), sso_account_id and sso_role_name. Point source_profile at one, or add them to \"{}\".",
        shell::printable(source_profile),
        shell::printable(profile),
        shell::printable(source_profile)
    )]
    SourceWithoutCredentials { profile: String, source_profile: String, file: String },
    #[error(
        "The profiles {} in {file} form a loop through source_profile: point one of them at a profile that signs in with IAM Identity Center.",
        loop_text(profiles)
    )]
    Loop { profiles: Vec<String>, file: String },
    #[error(
        "The profile \"{}\" in {file} has duration_seconds = \"{}\", which is not a number of seconds: set it to one (900 to 43200) or remove it.",
        shell::printable(profile),
        shell::printable(value)
    )]
    BadDuration { profile: String, file: String, value: String },
    #[error(
        "The profile \"{}\" in {file} takes its source credentials from credential_source = {}, which aws-sso-env does not provide: use source_profile, naming a profile that signs in with IAM Identity Center.",
        shell::printable(profile),
        shell::printable(credential_source)
    )]
    CredentialSource { profile: String, file: String, credential_source: String },
    #[error(
        "The profile \"{}\" in {file} needs an MFA code (mfa_serial), which aws-sso-env cannot ask for: use the AWS CLI for this profile, or remove mfa_serial.",
        shell::printable(profile)
    )]
    Mfa { profile: String, file: String },
    #[error(
        "The profile \"{}\" in {file} is chained to \"{}\", which has no {missing}: add it to \"{}\", the IAM Identity Center role the chain starts from.",
        shell::printable(profile),
        shell::printable(root),
        shell::printable(root)
    )]
    RootIncomplete { profile: String, root: String, missing: &'static str, file: String },
    #[error(
        "Could not assume {role_arn} for {origin}: {error}{}",
        if fix.is_empty() { String::new() } else { format!(". {fix}") }
    )]
    AssumeFailed { origin: String, role_arn: String, error: Box<http::HttpError>, fix: String },
    /// The Identity Center role at the root of a chain has no credentials: a login is needed.
    #[error("For {origin}: {error}")]
    SourceNeedsLogin { origin: String, error: Box<Error> },
    #[error(
        "The role to assume, {}, from {origin} is not a role ARN: set it to arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME.",
        shell::printable(value)
    )]
    NotAnArnIn { origin: String, value: String },
}

impl ChainError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ChainError::AssumeFailed { .. } => ErrorKind::Failure,
            ChainError::SourceNeedsLogin { error, .. } => error.kind(),
            _ => ErrorKind::Usage,
        }
    }
}

fn loop_text(profiles: &[String]) -> String {
    profiles.iter().map(|p| format!("\"{}\"", shell::printable(p))).collect::<Vec<_>>().join(" -> ")
}

/// Why role credentials could not be had, beyond the login and the network.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "You cannot use role {role_name} in account {account_id} (the portal answered {answer}). \
         `aws-sso-ls {}` lists your roles there.",
        with_selector(selector, account_id)
    )]
    NoAccess {
        account_id: String,
        role_name: String,
        /// The portal's error code, e.g. `ForbiddenException`.
        answer: String,
        /// The flags that select the session again (`--sso-session corp`), for the hint.
        selector: String,
    },
    #[error(
        "The SSO portal refused the login of {session} for role {role_name} in account \
         {account_id}: it expired or was logged out. Run: aws-sso-login {selector}"
    )]
    LoginRejected {
        session: String,
        selector: String,
        account_id: String,
        role_name: String,
        target: Box<SessionTarget>,
    },
}

impl CredentialsError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CredentialsError::NoAccess { .. } => ErrorKind::Failure,
            CredentialsError::LoginRejected { .. } => ErrorKind::NotLoggedIn,
        }
    }
}

fn with_selector(selector: &str, argument: &str) -> String {
    if selector.is_empty() { argument.to_owned() } else { format!("{selector} {argument}") }
}

/// The command that allows the project file at `path`, ready to paste into a shell.
fn allow_command(path: &str) -> CommandLine {
    CommandLine::new("aws-sso-env allow").arg(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corp() -> SessionTarget {
        SessionTarget {
            session_name: Some("corp".into()),
            profile: None,
            start_url: "https://corp.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: None,
        }
    }

    #[test]
    fn the_errors_a_login_fixes_name_their_session_and_no_other_does() {
        let corp = corp();
        let missing: Error = target::SessionError::NotLoggedIn {
            session: "corp".into(),
            selector: corp.selector(),
            target: Box::new(corp.clone()),
        }
        .into();
        assert_eq!(missing.needs_login(), Some(&corp));
        let refused: Error = CredentialsError::LoginRejected {
            session: "corp".into(),
            selector: corp.selector(),
            account_id: "111111111111".into(),
            role_name: "Admin".into(),
            target: Box::new(corp.clone()),
        }
        .into();
        assert_eq!(refused.needs_login(), Some(&corp));
        let no_access: Error = CredentialsError::NoAccess {
            account_id: "111111111111".into(),
            role_name: "Admin".into(),
            answer: "ForbiddenException".into(),
            selector: corp.selector(),
        }
        .into();
        assert_eq!(no_access.needs_login(), None);
    }
}
