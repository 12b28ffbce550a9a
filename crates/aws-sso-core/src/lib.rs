//! The library every aws-sso binary uses.
//!
//! It reads the AWS config files, keeps the caches it shares with the AWS CLI v2, runs the OIDC
//! login flows and calls the portal. It never prints to stdout and never exits the process: the
//! binaries do that. Each module holds one thing:
//!
//! - [`config`]: `~/.aws/config` and `~/.aws/credentials` (parser, format-preserving editor) and our
//!   own `config.yaml`.
//! - [`endpoint`]: where the `sso` and `sso-oidc` services live (regions, partitions, overrides).
//! - [`cache`]: token, registration and role-credential files, byte-compatible with the AWS CLI v2,
//!   and our account cache (accounts and roles, with lookups by id, name or prefix).
//! - [`lock`]: cross-process locks around login, refresh and credential fetches.
//! - [`http`]: the HTTP client, built only when a call is made.
//! - [`oidc`]: RegisterClient, StartDeviceAuthorization, CreateToken and the login flows.
//! - [`portal`]: ListAccounts, ListAccountRoles, GetRoleCredentials, Logout, and the listing of
//!   every account and role at the rate limit.
//! - [`resolve`]: from `ACCOUNT [ROLE]`, the project file or `AWS_PROFILE` to one account and role.
//! - [`session`]: which `[sso-session]` a command means, and a valid token for it.
//! - [`credentials`]: role credentials, from the shared CLI cache or GetRoleCredentials.
//! - [`console`]: AWS console sign-in links from role credentials (the federation endpoint).
//! - [`browser`]: how a URL is opened (config.yaml's `browser`, `$BROWSER`, the platform).
//! - [`container`]: the container credentials endpoint of `aws-sso-env exec --server`.
//! - [`shell`]: the credential variables, every `aws-sso-env --format`, and each shell's syntax
//!   (quoting, export, unset, the `init` script), one file per shell; commands messages suggest.
//! - [`env`]: the names of every environment variable we read.
//! - [`fs`]: atomic, private file writes.
//! - [`dirs`]: where our own config, cache and data directories are, by one rule.
//! - [`hook`]: what the shell hook exports, unsets and remembers on each prompt it runs for.
//! - [`trust`]: which project files (`.aws-sso.yaml`) may be used, and the shell hook's marker.
//! - [`complete`]: tab-completion candidates (sessions, profiles, cached accounts and roles).
//! - [`secret`], [`time`]: a string that never prints, and the timestamp formats of the caches.

pub mod browser;
pub mod cache;
pub mod complete;
pub mod config;
pub mod console;
pub mod container;
pub mod credentials;
pub mod dirs;
pub mod endpoint;
pub mod env;
pub mod error;
pub mod exit;
pub mod fs;
pub mod hook;
pub mod http;
pub mod lock;
pub mod oidc;
pub mod portal;
mod py_json;
pub mod resolve;
pub mod secret;
pub mod session;
pub mod shell;
pub mod start_url;
pub mod target;
pub mod time;
pub mod trust;

pub use error::{Error, Result};
pub use secret::Secret;
