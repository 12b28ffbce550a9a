//! The library every aws-sso binary uses.
//!
//! It reads the AWS config files, keeps the caches it shares with the AWS CLI v2, runs the OIDC
//! login flows and calls the portal. It never prints to stdout and never exits the process: the
//! binaries do that. Each module holds one thing, and depends only on the layers above it in
//! this list (`tests/layering.rs` fails on an import that closes a circle):
//!
//! Leaves, which import nothing of the crate:
//! - [`env`]: the names of every environment variable we read, and the snapshot of them and of
//!   the current directory that a command takes once.
//! - [`exit`]: what kind of failure an error is, which decides the exit code.
//! - [`fs`]: atomic, private file writes. [`secret`], [`time`]: a string that never prints, and
//!   the timestamp formats of the caches.
//!
//! Formats and transports:
//! - [`target`]: the session a command means (`SessionTarget`), what the user asked for, and why
//!   a session cannot be chosen.
//! - [`dirs`]: where our own config, cache and data directories are, by one rule.
//! - [`shell`]: the credential variables, every `aws-sso-env --format`, and each shell's syntax
//!   (quoting, export, unset, the `init` script), one file per shell; commands messages suggest.
//! - [`http`]: the HTTP client, built only when a call is made; retries, the rate limiter, the
//!   AWS error codes. It knows services only as the [`http::Api`] their clients describe.
//! - [`lock`]: cross-process file locks.
//! - [`cache`]: token, registration and role-credential files, byte-compatible with the AWS CLI v2,
//!   our account cache (accounts and roles, with lookups by id, name or prefix), and where the
//!   locks live.
//! - [`oidc`]: RegisterClient, StartDeviceAuthorization, CreateToken and the login flows.
//! - [`start_url`]: a start URL on a custom domain, followed to its portal and region.
//! - [`config`]: `~/.aws/config` and `~/.aws/credentials` (parser, format-preserving editor),
//!   our own `config.yaml` and the project file `.aws-sso.yaml`.
//! - [`endpoint`]: where the `sso` and `sso-oidc` services live (regions, partitions, overrides).
//! - [`portal`]: ListAccounts, ListAccountRoles, GetRoleCredentials, Logout, and the listing of
//!   every account and role at the rate limit.
//! - [`trust`]: which project files may be used.
//! - [`browser`]: how a URL is opened (config.yaml's `browser`, `$BROWSER`, the platform).
//! - [`console`]: AWS console sign-in links from role credentials (the federation endpoint).
//!
//! The error that gathers them, then the flows:
//! - [`error`]: the one error type, and the failures of the flows below.
//! - [`session`]: the context a command reads once; which `[sso-session]` it means; login,
//!   refresh, logout, status and the account list.
//! - [`credentials`]: role credentials, from the shared CLI cache or GetRoleCredentials.
//! - [`resolve`]: from `ACCOUNT [ROLE]`, the project file or `AWS_PROFILE` to one account and
//!   role, and the ladder from there to role credentials.
//! - [`container`]: the container credentials endpoint of `aws-sso-env exec --server`.
//! - [`hook`]: what the shell hook exports, unsets and remembers on each prompt it runs for, its
//!   stamp files and the marker that tells every shell to look again.
//! - [`complete`]: tab-completion candidates (sessions, profiles, cached accounts and roles).

pub mod browser;
pub mod cache;
pub mod chain;
pub mod complete;
pub mod config;
pub mod console;
pub mod container;
pub mod credentials;
pub mod dirs;
pub mod eks;
pub mod endpoint;
pub mod env;
pub mod error;
pub mod exit;
pub mod fs;
pub mod hook;
pub mod http;
pub mod lock;
pub mod names;
pub mod oidc;
pub mod portal;
mod py_json;
pub mod resolve;
pub mod secret;
pub mod session;
pub mod shell;
pub mod sigv4;
pub mod start_url;
pub mod sts;
pub mod target;
pub mod time;
pub mod trust;

pub use error::{Error, Result};
pub use secret::Secret;
