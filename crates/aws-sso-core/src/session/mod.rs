//! A command's session and its token: which `[sso-session]` the command means, login, refresh,
//! logout, status and the accounts the login reaches, with the cross-process locks of
//! docs/ARCHITECTURE.md §4 around each.
//!
//! Data flows one way: flags and environment → [`SessionTarget`] → token → (later) role
//! credentials. Nothing here prints; the login flows speak through
//! [`LoginPrompt`](crate::oidc::LoginPrompt). Each file holds one step:
//!
//! - [`context`]: everything a command reads once (environment, config, settings, caches).
//! - [`choose`]: which session the flags, the project file and `AWS_PROFILE` mean.
//! - [`token`]: the cached token, and a valid one (refreshed when due).
//! - [`login`], [`logout`], [`status`]: what `aws-sso-login` does.
//! - [`accounts`]: the account list, from the account cache or the portal.

pub mod accounts;
pub mod choose;
pub mod context;
pub mod login;
pub mod logout;
pub mod status;
pub mod token;

pub use accounts::{
    Accounts, AccountsRequest, AccountsSource, RolesWanted, accounts, fetch_roles,
    save_fetched_roles,
};
pub use choose::{every_session, identity_center_root, logged_in_sessions, resolve};
pub use context::Context;
pub use login::{LoginOptions, LoginOutcome, default_login_flow, login};
pub use logout::{LogoutOutcome, logout, logout_all};
pub use status::{SessionStatus, configured_targets, session_status, status};
pub use token::{REFRESH_WINDOW, TokenState, read_token, valid_token};

pub use crate::target::{DEFAULT_SCOPE, SessionError, SessionRequest, SessionTarget};

use crate::cache::registration::RegistrationKey;

/// The key of the client registration `target` logs in with.
fn registration_key(target: &SessionTarget) -> RegistrationKey {
    RegistrationKey {
        start_url: target.start_url.clone(),
        region: target.region.clone(),
        scopes: target.scopes.clone(),
        session_name: target.session_name.clone(),
    }
}

/// A throw-away home with a given `~/.aws/config` (and optionally our `config.yaml`), and the
/// context a command would read from it.
#[cfg(test)]
pub(crate) mod testing {
    use super::Context;
    use crate::env::{self, Environment};

    /// `~/.aws/config` lines of the session every test names: `corp`, in eu-west-1.
    pub(crate) const CORP: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";

    /// A config holding [`CORP`] and then `rest`.
    pub(crate) fn with_corp(rest: &str) -> String {
        format!("{CORP}{rest}")
    }

    pub(crate) struct Home {
        pub dir: tempfile::TempDir,
        pub env: Environment,
    }

    impl Home {
        pub(crate) fn new(aws_config: &str) -> Home {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::create_dir_all(dir.path().join(".aws")).expect("mkdir .aws");
            std::fs::write(dir.path().join(".aws/config"), aws_config).expect("config");
            let env = Environment::from_pairs([(env::HOME, dir.path().to_string_lossy())]);
            Home { dir, env }
        }

        /// Writes our `config.yaml`.
        pub(crate) fn settings(self, yaml: &str) -> Home {
            let dir = self.dir.path().join(".config/aws-sso");
            std::fs::create_dir_all(&dir).expect("mkdir config");
            std::fs::write(dir.join("config.yaml"), yaml).expect("config.yaml");
            self
        }

        pub(crate) fn with_var(mut self, name: &str, value: &str) -> Home {
            self.env.set(name, value);
            self
        }

        pub(crate) fn context(&self) -> Context {
            Context::load(self.env.clone(), None).expect("context")
        }
    }
}
