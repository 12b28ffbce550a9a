//! What the shell hook (`aws-sso-env hook <shell>`, docs/ARCHITECTURE.md §6) does on each run:
//! from the nearest project file, its trust, the login and the role-credential cache, the shell
//! code that exports, unsets and restores the credential variables, the state the shell hands
//! back next time, and the one-line messages for the user.
//!
//! Every run computes what each managed variable should hold and prints only the difference
//! with what the shell holds now, so entering, staying, moving to another project and leaving
//! are one rule. A variable the user changed after the hook set it is theirs: it is never
//! unset or restored. The only network call (GetRoleCredentials) is left to the caller
//! ([`Step::NeedsCredentials`]), so that deciding stays synchronous, with no runtime and no
//! HTTP client.
//!
//! - `state`: what the hook remembers between runs, and the variables as the shell holds them.
//! - `plan`: the decisions of one run that need no network, and the fetch left to the caller.
//! - `run`: the messages and the shell code one run prints.
//! - [`marker`]: the file whose mtime tells every shell to run its hook once more.
//! - `stamp`: each shell's stamp file, which lets the shell skip the hook on idle prompts.

pub mod marker;
mod plan;
mod run;
mod stamp;
mod state;

use std::path::PathBuf;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::env::{self, Environment};
use crate::shell;

pub use plan::{FetchError, Pending, PendingAccounts, Step, fail_closed, plan, run_hook};
pub use state::{HookState, Used, Vars};

/// The shell variable holding [`HookState`] as JSON.
pub const STATE_VAR: &str = env::AWS_SSO_HOOK_STATE;
/// The project file in effect (so the shell can notice an edit or a removal), or empty.
pub const FILE_VAR: &str = "_AWS_SSO_FILE";
/// The marker that `login`, `logout`, `allow` and `deny` touch.
pub const MARKER_VAR: &str = "_AWS_SSO_MARKER";
/// This shell's stamp file: its mtime is the newest mtime the hook saw of the file and marker.
pub const STAMP_VAR: &str = "_AWS_SSO_STAMP";
/// Epoch seconds at which the hook must run again (0: never).
pub const REFRESH_AT_VAR: &str = "_AWS_SSO_REFRESH_AT";
/// Exported while `aws-sso use` is in effect: a copy of [`Used`] as JSON (names only), so that
/// commands run from the shell (`aws-sso-env status`) can tell. The hook itself reads the state.
pub const USED_VAR: &str = "_AWS_SSO_USED";

/// The bound on GetRoleCredentials when `AWS_SSO_HOOK_TIMEOUT` does not say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// After a failure that may pass (the network, an account list not fetched yet), the hook
/// tries again this long after.
pub const RETRY_AFTER: SignedDuration = SignedDuration::from_secs(60);

/// Every variable the hook may change, in the order it prints them.
pub const MANAGED: [&str; 11] = [
    shell::AWS_ACCESS_KEY_ID,
    shell::AWS_SECRET_ACCESS_KEY,
    shell::AWS_SESSION_TOKEN,
    shell::AWS_CREDENTIAL_EXPIRATION,
    shell::AWS_REGION,
    shell::AWS_DEFAULT_REGION,
    shell::AWS_SSO_ACCOUNT_ID,
    shell::AWS_SSO_ACCOUNT_NAME,
    shell::AWS_SSO_ROLE_NAME,
    shell::AWS_SSO_PROFILE,
    env::AWS_PROFILE,
];

/// The cause id of "this shell has credentials of its own".
const OWN_CREDENTIALS: &str = "own-credentials";

/// Everything one run starts from.
#[derive(Clone, Debug)]
pub struct HookInput {
    pub state: HookState,
    /// The directory the shell is in.
    pub pwd: PathBuf,
    /// The shell's pid, which names its stamp file.
    pub shell_pid: Option<u32>,
    pub current: Vars,
    /// [`USED_VAR`] as the shell exports it now.
    pub used_export: Option<String>,
    pub now: Timestamp,
}

impl HookInput {
    /// From the hook's environment: `_AWS_SSO_STATE`, `_AWS_SSO_SHELL_PID`, `PWD` (when
    /// absolute, else `fallback_dir`) and the managed variables.
    pub fn from_env(env: &Environment, fallback_dir: PathBuf) -> HookInput {
        let pwd = env
            .non_empty(env::PWD)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or(fallback_dir);
        HookInput {
            state: HookState::decode(env.get(STATE_VAR)),
            pwd,
            shell_pid: env
                .non_empty(env::AWS_SSO_HOOK_SHELL_PID)
                .and_then(|p| p.trim().parse().ok()),
            current: Vars::from_env(env),
            used_export: env.get(USED_VAR).map(str::to_owned),
            now: Timestamp::now(),
        }
    }

    /// The first credential variable the shell holds that the hook did not set, if any.
    pub fn credentials_of_the_users_own(&self) -> Option<&'static str> {
        self.state.foreign_credential(&self.current)
    }
}

/// The environment to resolve the session in: the user's `AWS_PROFILE`, which the hook unset
/// while a project is active, counts as set.
pub fn resolution_env(env: &Environment, state: &HookState) -> Environment {
    let mut env = env.clone();
    if env.get(env::AWS_PROFILE).is_none()
        && let Some(Some(profile)) = state.saved.get(env::AWS_PROFILE)
    {
        env.set(env::AWS_PROFILE, profile.clone());
    }
    env
}

/// The bound on the network call: `AWS_SSO_HOOK_TIMEOUT` seconds, else [`DEFAULT_TIMEOUT`].
pub fn timeout(env: &Environment) -> Duration {
    env.non_empty(env::AWS_SSO_HOOK_TIMEOUT)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

/// What a run prints: shell code for stdout (written once), lines for stderr.
/// `Debug` leaves `stdout` out: it holds the secret key and the session token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HookOutput {
    pub stdout: String,
    /// Each line starts with `aws-sso: `.
    pub messages: Vec<String>,
    /// The state now in `_AWS_SSO_STATE`.
    pub state: HookState,
}

impl std::fmt::Debug for HookOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookOutput")
            .field("stdout", &format_args!("<{} bytes>", self.stdout.len()))
            .field("messages", &self.messages)
            .field("state", &self.state)
            .finish()
    }
}

#[cfg(test)]
mod tests;
