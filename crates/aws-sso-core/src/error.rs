//! The one error type of the library, and how it maps to exit codes.
//!
//! Every module has its own error enum with the context a person needs (which file, which
//! session, which command fixes it); this type only gathers them. No variant ever holds a token,
//! a secret or a session token.

use crate::{
    cache, config, console, credentials, endpoint, http, oidc, resolve, session, shell, start_url,
    trust,
};

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
    Session(#[from] session::SessionError),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    #[error(transparent)]
    Resolve(#[from] resolve::ResolveError),
    #[error(transparent)]
    Trust(#[from] trust::TrustError),
    #[error(transparent)]
    Shell(#[from] shell::ShellError),
    #[error(transparent)]
    Console(#[from] console::ConsoleError),
    #[error(transparent)]
    StartUrl(#[from] start_url::StartUrlError),
}

/// What kind of failure, which decides the exit code (docs/ARCHITECTURE.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Exit 1.
    Failure,
    /// Exit 2: the command line or the configuration asks for something that cannot be done.
    Usage,
    /// Exit 3: not logged in, or the session expired.
    NotLoggedIn,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failure => 1,
            ErrorKind::Usage => 2,
            ErrorKind::NotLoggedIn => 3,
        }
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
            Error::Session(e) => e.kind(),
            Error::Credentials(e) => e.kind(),
            Error::Resolve(e) => e.kind(),
            Error::Trust(_) | Error::Shell(_) | Error::Console(_) => ErrorKind::Failure,
            Error::StartUrl(e) => e.kind(),
        }
    }
}
