//! The leaf types of a session: which `[sso-session]` (or legacy profile) a command means, what
//! the user asked for to choose it, and why it cannot be chosen or used. Nothing here reads a
//! file or calls a service, so the caches, the portal and the flows above can all name a session
//! without depending on each other.

use std::path::{Path, PathBuf};

use crate::exit::ErrorKind;
use crate::names;
use crate::shell::{CommandLine, printable};

/// The scope every registration asks for when the session configures none; it is what makes
/// the service issue refresh tokens.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// One login: a `[sso-session]`, or a legacy profile with `sso_start_url` in the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTarget {
    /// The `[sso-session NAME]`; `None` for a legacy profile.
    pub session_name: Option<String>,
    /// The profile it was reached through, if any.
    pub profile: Option<String>,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes` as configured; `None` when the key is absent.
    pub scopes: Option<Vec<String>>,
}

impl SessionTarget {
    /// What the token file name hashes: the session name, or the start URL as written.
    pub fn token_identifier(&self) -> &str {
        self.session_name.as_deref().unwrap_or(&self.start_url)
    }

    /// How messages name it: `corp`, or `profile dev (https://…/start)` for a legacy profile.
    pub fn display_name(&self) -> String {
        match (&self.session_name, &self.profile) {
            (Some(name), _) => name.clone(),
            (None, Some(profile)) => format!("profile {profile} ({})", self.start_url),
            (None, None) => self.start_url.clone(),
        }
    }

    /// An error when the region is not known yet: a custom-domain start URL without
    /// `sso_region`, before the login that learns it.
    pub(crate) fn require_region(&self) -> Result<(), SessionError> {
        if self.region.is_empty() {
            return Err(SessionError::RegionUnknown {
                session: self.display_name(),
                selector: self.selector(),
                target: Box::new(self.clone()),
            });
        }
        Ok(())
    }

    /// The flags that select this target again, for hints in messages.
    /// A name a shell would split or expand is quoted, so the hint can be pasted as it is.
    pub fn selector(&self) -> String {
        match (&self.session_name, &self.profile) {
            (Some(name), _) => CommandLine::new("--sso-session").arg(name).to_string(),
            (None, Some(profile)) => CommandLine::new("--profile").arg(profile).to_string(),
            (None, None) => String::new(),
        }
    }

    /// The scopes a registration asks for: the configured ones, else `sso:account:access`.
    pub(crate) fn requested_scopes(&self) -> Vec<String> {
        match &self.scopes {
            Some(scopes) if !scopes.is_empty() => scopes.clone(),
            _ => vec![DEFAULT_SCOPE.to_owned()],
        }
    }
}

/// What the user asked for on the command line. `profile` is `--profile` only; `AWS_PROFILE`
/// comes later in the order of docs/ARCHITECTURE.md §7.
#[derive(Clone, Debug, Default)]
pub struct SessionRequest {
    pub sso_session: Option<String>,
    pub profile: Option<String>,
    /// The `sso_session` of the project file (`.aws-sso.yaml`), when there is one.
    pub project_session: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "No sso-session is configured in {config}.\nAdd one with: aws-sso-login configure --sso-session NAME --start-url URL --region REGION"
    )]
    NoneConfigured { config: PathBuf },
    #[error(
        "Several sso-sessions are configured in {config} ({}); choose one with --sso-session NAME, AWS_SSO_SESSION or --profile NAME.",
        names::bounded(names)
    )]
    Ambiguous { config: PathBuf, names: Vec<String> },
    #[error("{}", no_such_profile(profile, config, names))]
    NoSuchProfile {
        profile: String,
        config: PathBuf,
        /// The profiles of the config, sorted.
        names: Vec<String>,
    },
    #[error(
        "The profile \"{profile}\" in {config} does not use IAM Identity Center: it has neither sso_session nor sso_start_url and sso_region, and no source_profile that leads to one. Name the session instead (--sso-session NAME), or, if AWS_PROFILE set it, unset AWS_PROFILE."
    )]
    NotSsoProfile { profile: String, config: PathBuf },
    #[error(
        "default_session in {} names a session that is not configured: {cause} Fix default_session, or remove it.",
        settings.display()
    )]
    DefaultSessionNotFound { name: String, settings: PathBuf, cause: String },
    #[error(
        "The profile \"{profile}\" in {config} is missing {missing}. Set sso_session = NAME, or both sso_start_url and sso_region."
    )]
    IncompleteProfile { profile: String, config: PathBuf, missing: String },
    #[error("Not logged in to {session}. Run: aws-sso-login {selector}")]
    NotLoggedIn { session: String, selector: String, target: Box<SessionTarget> },
    #[error(
        "The region of {session} is not known yet: it has no sso_region, and its start URL names it only once followed. Run: aws-sso-login {selector}"
    )]
    RegionUnknown { session: String, selector: String, target: Box<SessionTarget> },
    #[error(
        "The login of {session} expired at {expired_at} and cannot be refreshed. Run: aws-sso-login {selector}"
    )]
    Expired { session: String, expired_at: String, selector: String, target: Box<SessionTarget> },
    /// The refresh failed for a reason that may pass (network, timeout, 5xx, throttling, an
    /// unreadable answer): the login itself may be fine, so no new login is asked for.
    #[error(
        "The login of {session} expired at {expired_at}, and refreshing it failed for a reason \
         that may pass: {cause}. The login itself may still be good: run the command again in a \
         moment."
    )]
    RefreshFailed { session: String, expired_at: String, cause: String },
}

/// `The profile "typo" does not exist in FILE. Did you mean …?` (else a few of the profiles
/// there), short however many profiles the file holds.
fn no_such_profile(profile: &str, config: &Path, all: &[String]) -> String {
    let near = names::closest(profile, all.iter().map(String::as_str));
    let listed = if all.is_empty() {
        " It has no profile at all.".to_owned()
    } else if near.is_empty() {
        format!(" Profiles there: {}.", names::bounded(all))
    } else {
        String::new()
    };
    format!(
        "The profile \"{}\" does not exist in {}.{}{listed}",
        printable(profile),
        config.display(),
        names::did_you_mean(&near)
    )
}

impl SessionError {
    /// [`SessionError::NoSuchProfile`] for `profile`, among the profiles `names` of `config`.
    pub fn no_such_profile<'a>(
        profile: &str,
        config: PathBuf,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
        names.sort_unstable();
        SessionError::NoSuchProfile { profile: profile.to_owned(), config, names }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::NotLoggedIn { .. }
            | SessionError::Expired { .. }
            | SessionError::RegionUnknown { .. } => ErrorKind::NotLoggedIn,
            SessionError::RefreshFailed { .. } => ErrorKind::Failure,
            _ => ErrorKind::Usage,
        }
    }

    /// The session a login would fix this error for, when a login is what it needs.
    pub fn needs_login(&self) -> Option<&SessionTarget> {
        match self {
            SessionError::NotLoggedIn { target, .. }
            | SessionError::Expired { target, .. }
            | SessionError::RegionUnknown { target, .. } => Some(target),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(session: Option<&str>, profile: Option<&str>) -> SessionTarget {
        SessionTarget {
            session_name: session.map(str::to_owned),
            profile: profile.map(str::to_owned),
            start_url: "https://corp.awsapps.com/start".to_owned(),
            region: "eu-west-1".to_owned(),
            scopes: None,
        }
    }

    #[test]
    fn session_errors_list_ten_names_at_most() {
        let names: Vec<String> = (0..1500).map(|i| format!("team-{i:04}")).collect();
        let config = PathBuf::from("/h/.aws/config");
        let err =
            SessionError::no_such_profile("zzz", config.clone(), names.iter().map(String::as_str));
        let text = err.to_string();
        assert!(
            text.starts_with("The profile \"zzz\" does not exist in /h/.aws/config."),
            "{text}"
        );
        assert!(text.ends_with("team-0009 and 1490 more."), "{text}");
        let err = SessionError::no_such_profile(
            "team-O012",
            config.clone(),
            names.iter().map(String::as_str),
        );
        assert!(err.to_string().contains("Did you mean team-0012"), "{err}");
        assert!(err.to_string().len() < 200, "{err}");
        let err = SessionError::no_such_profile("x", config.clone(), []);
        assert!(err.to_string().ends_with("It has no profile at all."), "{err}");
        let err = SessionError::Ambiguous { config, names: names.clone() };
        assert!(err.to_string().contains("team-0009 and 1490 more);"), "{err}");
    }

    #[test]
    fn the_selector_is_what_to_type_again_quoted_when_a_shell_would_split_it() {
        assert_eq!(target(Some("corp"), Some("dev")).selector(), "--sso-session corp");
        assert_eq!(target(None, Some("dev.ReadOnly")).selector(), "--profile dev.ReadOnly");
        assert_eq!(target(None, Some("my dev;x")).selector(), "--profile 'my dev;x'");
        assert_eq!(target(None, None).selector(), "");
    }

    #[test]
    fn only_the_errors_a_login_fixes_name_the_session_to_log_in() {
        let corp = target(Some("corp"), None);
        let missing = SessionError::NotLoggedIn {
            session: corp.display_name(),
            selector: corp.selector(),
            target: Box::new(corp.clone()),
        };
        assert_eq!(missing.needs_login(), Some(&corp));
        let region = corp.require_region();
        assert!(region.is_ok());
        let unknown = SessionTarget { region: String::new(), ..corp.clone() };
        let region = unknown.require_region().expect_err("no region");
        assert_eq!(region.needs_login(), Some(&unknown));
        let passing = SessionError::RefreshFailed {
            session: "corp".into(),
            expired_at: "then".into(),
            cause: "timeout".into(),
        };
        assert_eq!(passing.needs_login(), None, "trying again fixes it, not a login");
        let ambiguous = SessionError::Ambiguous {
            config: PathBuf::from("/c"),
            names: vec!["a".into(), "b".into()],
        };
        assert_eq!(ambiguous.needs_login(), None);
    }
}
