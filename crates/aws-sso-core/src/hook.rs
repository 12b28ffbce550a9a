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

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::cache::our_cache_dir;
use crate::cache::role_credentials::RoleCredentials;
use crate::config::project::{ProjectFile, find_project_file, load_project_file};
use crate::credentials::{self, REUSE_WINDOW, RoleRequest};
use crate::env::{self, Environment};
use crate::error::ErrorKind;
use crate::resolve::{self, ProjectState, Resolution, ResolvedRole, RoleChoice};
use crate::session::{Context, SessionRequest, SessionTarget, TokenState, read_token};
use crate::shell::{self, CommandLine, CredentialView, Exports, Shell, quote_posix};
use crate::trust::{self, Trust};

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

/// What the hook remembers between runs, in the shell variable `_AWS_SSO_STATE`. It holds
/// names, paths, the expiry and the access key id: never a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookState {
    pub v: u32,
    /// The project file whose credentials are exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// As exported in `AWS_CREDENTIAL_EXPIRATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    /// Every variable the hook exported.
    #[serde(default)]
    pub set: Vec<String>,
    /// The value each variable the hook changed or unset had before (`None`: unset).
    #[serde(default)]
    pub saved: BTreeMap<String, Option<String>>,
    /// The causes of the messages already printed, while they last.
    #[serde(default)]
    pub told: Vec<String>,
}

impl HookState {
    pub const VERSION: u32 = 1;

    /// The state from `_AWS_SSO_STATE`. Empty, unreadable or of another version: nothing active
    /// (the variables it names then count as the user's).
    pub fn decode(text: Option<&str>) -> HookState {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return HookState::default();
        };
        match serde_json::from_str::<HookState>(text) {
            Ok(state) if state.v == Self::VERSION => state,
            Ok(state) => {
                tracing::warn!("ignoring {STATE_VAR} of version {}", state.v);
                HookState::default()
            }
            Err(e) => {
                tracing::warn!("ignoring an unreadable {STATE_VAR}: {e}");
                HookState::default()
            }
        }
    }

    /// One line of JSON; empty when there is nothing to remember.
    pub fn encode(&self) -> String {
        if self.set.is_empty() && self.saved.is_empty() && self.told.is_empty() {
            return String::new();
        }
        let state = HookState { v: Self::VERSION, ..self.clone() };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// The value the hook gave `name`: `Some(None)` when it unset it, `None` when it does not
    /// manage it or does not know (the secret key and the session token are not kept).
    fn ours(&self, name: &str) -> Option<Option<String>> {
        if !self.saved.contains_key(name) {
            return None;
        }
        if !self.set.iter().any(|n| n == name) {
            return Some(None);
        }
        let known = match name {
            shell::AWS_ACCESS_KEY_ID => self.access_key_id.clone(),
            shell::AWS_CREDENTIAL_EXPIRATION => self.expiration.clone(),
            shell::AWS_REGION | shell::AWS_DEFAULT_REGION => self.region.clone(),
            shell::AWS_SSO_ACCOUNT_ID => self.account_id.clone(),
            shell::AWS_SSO_ACCOUNT_NAME => self.account_name.clone(),
            shell::AWS_SSO_ROLE_NAME => self.role_name.clone(),
            shell::AWS_SSO_PROFILE => {
                let account = self.account_name.as_ref().or(self.account_id.as_ref());
                account.zip(self.role_name.as_ref()).map(|(a, r)| format!("{a}:{r}"))
            }
            _ => return None,
        };
        known.map(Some)
    }

    fn owns_credentials(&self, current: &Vars) -> bool {
        self.set.iter().any(|n| n == shell::AWS_ACCESS_KEY_ID)
            && self.access_key_id.is_some()
            && current.get(shell::AWS_ACCESS_KEY_ID) == self.access_key_id.as_deref()
    }

    /// Whether `name` still holds what the hook gave it. Unknown values (the secret key and
    /// the session token) follow `AWS_ACCESS_KEY_ID`: the three change together.
    fn still_ours(&self, name: &str, current: &Vars) -> bool {
        match self.ours(name) {
            Some(value) => current.get(name) == value.as_deref(),
            None => self.saved.contains_key(name) && self.owns_credentials(current),
        }
    }
}

/// The managed variables as the shell holds them now.
///
/// `Debug` shows the names only: the values include the secret key and the session token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Vars(BTreeMap<String, String>);

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Vars {
    /// The managed variables of `env`.
    pub fn from_env(env: &Environment) -> Vars {
        Vars(
            MANAGED
                .iter()
                .filter_map(|name| Some((name.to_string(), env.get(name)?.to_owned())))
                .collect(),
        )
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vars {
        Vars(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Everything one run starts from.
#[derive(Clone, Debug)]
pub struct HookInput {
    pub state: HookState,
    /// The directory the shell is in.
    pub pwd: PathBuf,
    /// The shell's pid, which names its stamp file.
    pub shell_pid: Option<u32>,
    pub current: Vars,
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
            now: Timestamp::now(),
        }
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

/// Why role credentials could not be fetched.
#[derive(Debug)]
pub enum FetchError {
    TimedOut(Duration),
    Failed(crate::Error),
    /// The call could not even start (no runtime).
    NotStarted(std::io::Error),
}

/// Where [`plan`] stops.
// One per run, moved once: the size of a variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Step {
    Done(HookOutput),
    /// The role credentials are not cached: fetch them (with [`credentials::fetch`], bounded by
    /// [`timeout`]) and hand the result to [`Pending::finish`].
    NeedsCredentials(Pending),
}

/// A run waiting for role credentials.
#[derive(Debug)]
pub struct Pending {
    run: Run,
    file: ProjectFile,
    resolved: ResolvedRole,
}

impl Pending {
    pub fn request(&self) -> RoleRequest<'_> {
        RoleRequest {
            target: &self.resolved.session,
            account_id: &self.resolved.account_id,
            role_name: &self.resolved.role_name,
        }
    }

    pub fn finish(
        self,
        env: &Environment,
        fetched: Result<RoleCredentials, FetchError>,
    ) -> HookOutput {
        let Pending { mut run, file, resolved } = self;
        match fetched {
            Ok(creds) => run.activate(env, &file, &resolved, &creds),
            Err(error) => {
                let what =
                    format!("role {} in account {}", resolved.role_name, resolved.account_id);
                let cause = format!("fetch:{}:{}", resolved.account_id, resolved.role_name);
                match error {
                    FetchError::TimedOut(after) => {
                        run.tell(
                            cause,
                            format_args!(
                                "the SSO portal did not answer within {} s for {what}; no credentials are set, trying again in a minute",
                                after.as_secs_f64()
                            ),
                        );
                        run.retry_at = Some(run.now + RETRY_AFTER);
                    }
                    FetchError::Failed(e) if e.kind() == ErrorKind::NotLoggedIn => {
                        run.tell(session_cause(&resolved.session), e);
                    }
                    FetchError::Failed(e) => {
                        let passing = matches!(e, crate::Error::Http(_));
                        run.tell(cause, format_args!("no credentials for {what}: {e}"));
                        if passing {
                            run.retry_at = Some(run.now + RETRY_AFTER);
                        }
                    }
                    FetchError::NotStarted(e) => {
                        run.tell(cause, format_args!("no credentials for {what}: {e}"));
                        run.retry_at = Some(run.now + RETRY_AFTER);
                    }
                }
                run.deactivate(env)
            }
        }
    }
}

/// One whole run, with `fetch` called when the credentials must come from the portal.
pub fn run_hook(
    ctx: &Context,
    shell: Shell,
    input: HookInput,
    fetch: impl FnOnce(&RoleRequest<'_>) -> Result<RoleCredentials, FetchError>,
) -> HookOutput {
    match plan(ctx, shell, input) {
        Step::Done(output) => output,
        Step::NeedsCredentials(pending) => {
            let fetched = fetch(&pending.request());
            pending.finish(&ctx.env, fetched)
        }
    }
}

/// Everything that needs no network: which project, its trust, the login, the cache.
pub fn plan(ctx: &Context, shell: Shell, input: HookInput) -> Step {
    let env = &ctx.env;
    let mut run = Run::new(env, shell, input);
    let Some(path) = find_project_file(&run.pwd) else {
        tracing::debug!("hook: no project file above {}; nothing should be set", run.pwd.display());
        return Step::Done(run.deactivate(env));
    };
    tracing::debug!("hook: project file {}", path.display());
    // Before the content: an edit after this read moves the mtime past the stamp.
    run.project_mtime = modified(&path);
    run.project_path = Some(path.clone());
    let allow = CommandLine::new("aws-sso-env allow").quoted(&path.to_string_lossy());
    let loaded = trust::check_ownership(&path)
        .map_err(|e| e.to_string())
        .and_then(|()| load_project_file(&path).map_err(|e| e.to_string()));
    let file = match loaded {
        Ok(file) => file,
        Err(e) => {
            run.tell(
                format!("invalid:{}", path.display()),
                format_args!("{e}; no credentials are set"),
            );
            return Step::Done(run.deactivate(env));
        }
    };
    let trust = trust::trust_of(env, &ctx.settings, &file);
    tracing::debug!("hook: trust {trust:?}");
    match trust {
        Ok(Trust::Allowed | Trust::TrustedPrefix(_)) => {}
        Ok(Trust::NotAllowed) => {
            run.tell(
                format!("untrusted:{}", path.display()),
                format_args!(
                    "{} is not allowed, so no credentials are set. Review it, then run: {allow}",
                    path.display()
                ),
            );
            return Step::Done(run.deactivate(env));
        }
        Ok(Trust::ChangedSinceAllowed) => {
            run.tell(
                format!("untrusted:{}", path.display()),
                format_args!(
                    "{} changed since it was allowed, so no credentials are set. Review it, then run: {allow}",
                    path.display()
                ),
            );
            return Step::Done(run.deactivate(env));
        }
        Err(e) => {
            run.tell(format!("invalid:{}", path.display()), format_args!("{e}"));
            return Step::Done(run.deactivate(env));
        }
    }
    if run.credentials_of_the_users_own() {
        run.tell(
            OWN_CREDENTIALS.to_owned(),
            "this shell has credentials of its own (AWS_ACCESS_KEY_ID); leaving them alone",
        );
        return Step::Done(run.deactivate(env));
    }
    let project = ProjectState::Trusted(file.clone());
    let mut resolved = match resolve::resolve_role(
        ctx,
        &SessionRequest::default(),
        &RoleChoice::default(),
        Some(&project),
    ) {
        Ok(Resolution::Resolved(resolved)) => resolved,
        Ok(Resolution::NeedsAccounts(target)) => {
            let selector = target.selector();
            let space = if selector.is_empty() { "" } else { " " };
            run.tell(
                format!("accounts:{}", path.display()),
                format_args!(
                    "{} names account {}, which the account list of {} cannot answer yet; no credentials are set. Fetch the list with: aws-sso-ls --refresh{space}{selector}",
                    path.display(),
                    quote_posix(&file.account),
                    target.display_name()
                ),
            );
            run.retry_at = Some(run.now + RETRY_AFTER);
            return Step::Done(run.deactivate(env));
        }
        Err(e) => {
            run.tell(
                format!("resolve:{}", path.display()),
                format_args!("{e}; no credentials are set"),
            );
            return Step::Done(run.deactivate(env));
        }
    };
    // A project named by id still shows its name in prompts (AWS_SSO_PROFILE): from the state
    // while the account stays the same, else one read of the account cache.
    if resolved.account_name.is_none() {
        resolved.account_name = match (&run.old.account_id, &run.old.account_name) {
            (Some(id), Some(name)) if *id == resolved.account_id => Some(name.clone()),
            _ => resolve::account_name(ctx, &resolved),
        };
    }
    if let Some(problem) = login_problem(ctx, &resolved.session, run.now) {
        run.tell(session_cause(&resolved.session), problem);
        return Step::Done(run.deactivate(env));
    }
    let pending = Pending { run, file, resolved };
    tracing::debug!(
        "hook: account {} role {} of {}",
        pending.resolved.account_id,
        pending.resolved.role_name,
        pending.resolved.session.display_name()
    );
    match credentials::cached(ctx, &pending.request(), REUSE_WINDOW) {
        Some(creds) => {
            tracing::debug!("hook: role credentials cached until {}", creds.expiration);
            let Pending { mut run, file, resolved } = pending;
            Step::Done(run.activate(env, &file, &resolved, &creds))
        }
        None => {
            tracing::debug!("hook: no usable role credentials cached; one GetRoleCredentials");
            Step::NeedsCredentials(pending)
        }
    }
}

/// A run that cannot even read the configuration: unset what the hook set, say why once.
pub fn fail_closed(
    env: &Environment,
    shell: Shell,
    input: HookInput,
    error: impl Display,
) -> HookOutput {
    let mut run = Run::new(env, shell, input);
    run.project_path = find_project_file(&run.pwd);
    run.project_mtime = run.project_path.as_deref().and_then(modified);
    run.tell("config".to_owned(), format_args!("{error}; no credentials are set"));
    run.deactivate(env)
}

/// Why the login of `session` cannot give credentials, if it cannot: logged out, or expired
/// with nothing to refresh it.
fn login_problem(ctx: &Context, session: &SessionTarget, now: Timestamp) -> Option<String> {
    let selector = session.selector();
    let space = if selector.is_empty() { "" } else { " " };
    match read_token(ctx, session) {
        TokenState::Present(token)
            if token.remaining(now) > SignedDuration::ZERO || token.is_refreshable(now) =>
        {
            None
        }
        TokenState::Present(token) => Some(format!(
            "the login of {} expired at {}; credentials unset. Run: aws-sso-login{space}{selector}",
            session.display_name(),
            crate::time::format_cli(token.expires_at)
        )),
        TokenState::Missing | TokenState::Unreadable(_) => Some(format!(
            "not logged in to {}; credentials unset. Run: aws-sso-login{space}{selector}",
            session.display_name()
        )),
    }
}

fn session_cause(session: &SessionTarget) -> String {
    format!("session:{}", session.token_identifier())
}

/// The state of one run while it decides.
#[derive(Debug)]
struct Run {
    shell: Shell,
    pwd: PathBuf,
    shell_pid: Option<u32>,
    old: HookState,
    current: Vars,
    now: Timestamp,
    /// The nearest project file, trusted or not.
    project_path: Option<PathBuf>,
    project_mtime: Option<SystemTime>,
    marker: Option<PathBuf>,
    marker_mtime: Option<SystemTime>,
    told: Vec<String>,
    messages: Vec<String>,
    retry_at: Option<Timestamp>,
}

/// What the managed variables should hold when credentials are exported.
struct Active<'a> {
    exports: &'a Exports,
    state: HookState,
    refresh_at: i64,
}

impl Run {
    fn new(env: &Environment, shell: Shell, input: HookInput) -> Run {
        let HookInput { state, pwd, shell_pid, current, now } = input;
        // Read first: an allow or a login after this moves the marker past the stamp.
        let marker = trust::marker_path(env);
        let marker_mtime = marker.as_deref().and_then(modified);
        let mut told = Vec::new();
        // Said once for as long as the user's own credentials stay in the shell.
        let foreign = current.get(shell::AWS_ACCESS_KEY_ID).is_some_and(|v| !v.is_empty())
            && !state.owns_credentials(&current);
        if foreign && state.told.iter().any(|t| t == OWN_CREDENTIALS) {
            told.push(OWN_CREDENTIALS.to_owned());
        }
        Run {
            shell,
            pwd,
            shell_pid,
            old: state,
            current,
            now,
            project_path: None,
            project_mtime: None,
            marker,
            marker_mtime,
            told,
            messages: Vec::new(),
            retry_at: None,
        }
    }

    /// A message, printed unless the previous run already printed it for the same cause.
    fn tell(&mut self, cause: String, message: impl Display) {
        if !self.old.told.contains(&cause) {
            let text = message.to_string();
            // One line each, whatever the message or the paths in it hold.
            let line: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            self.messages.push(format!("aws-sso: {}", line.join(" ")));
        }
        if !self.told.contains(&cause) {
            self.told.push(cause);
        }
    }

    fn credentials_of_the_users_own(&self) -> bool {
        self.current.get(shell::AWS_ACCESS_KEY_ID).is_some_and(|v| !v.is_empty())
            && !self.old.owns_credentials(&self.current)
    }

    /// What `name` would hold had the hook never touched it.
    fn baseline(&self, name: &str) -> Option<String> {
        match self.old.saved.get(name) {
            Some(saved) if self.old.still_ours(name, &self.current) => saved.clone(),
            _ => self.current.get(name).map(str::to_owned),
        }
    }

    fn activate(
        &mut self,
        env: &Environment,
        file: &ProjectFile,
        resolved: &ResolvedRole,
        creds: &RoleCredentials,
    ) -> HookOutput {
        let view = CredentialView {
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            session_token: creds.session_token.clone(),
            expiration: creds.expiration,
            region: resolved.region.clone(),
            account_id: resolved.account_id.clone(),
            account_name: resolved.account_name.clone(),
            role_name: resolved.role_name.clone(),
        };
        let exports = view.exports();
        let state = HookState {
            v: HookState::VERSION,
            file: Some(file.path.to_string_lossy().into_owned()),
            account_id: Some(resolved.account_id.clone()),
            account_name: exports.get(shell::AWS_SSO_ACCOUNT_NAME).map(str::to_owned),
            role_name: Some(resolved.role_name.clone()),
            region: exports.get(shell::AWS_REGION).map(str::to_owned),
            access_key_id: Some(creds.access_key_id.clone()),
            expiration: exports.get(shell::AWS_CREDENTIAL_EXPIRATION).map(str::to_owned),
            ..HookState::default()
        };
        let expires = creds.expiration.as_second();
        let mut refresh_at = expires - REUSE_WINDOW.as_secs();
        if refresh_at <= self.now.as_second() {
            // Credentials that live less than the window: refresh half way, not on every prompt.
            refresh_at = self.now.as_second() + ((expires - self.now.as_second()) / 2).max(1);
        }
        let active = Active { exports: &exports, state, refresh_at };
        self.render(env, Some(active))
    }

    fn deactivate(&mut self, env: &Environment) -> HookOutput {
        self.render(env, None)
    }

    fn render(&mut self, env: &Environment, active: Option<Active<'_>>) -> HookOutput {
        // Within one project a variable the user changed stays theirs; a new project sets all.
        let same_project = active.as_ref().is_some_and(|a| {
            a.state.file.as_deref() == self.old.file.as_deref() && self.old.file.is_some()
        });
        let mut state = HookState { told: std::mem::take(&mut self.told), ..HookState::default() };
        let mut unsets = String::new();
        let mut exports = String::new();
        for name in MANAGED {
            let users =
                self.old.saved.contains_key(name) && !self.old.still_ours(name, &self.current);
            let ours: Option<Option<&str>> = match &active {
                Some(_) if users && same_project => None,
                Some(_) if name == env::AWS_PROFILE => Some(None),
                Some(a) => a.exports.get(name).map(Some),
                None => None,
            };
            let desired = match ours {
                Some(value) => {
                    state.saved.insert(name.to_owned(), self.baseline(name));
                    if value.is_some() {
                        state.set.push(name.to_owned());
                    }
                    value.map(str::to_owned)
                }
                None => self.baseline(name),
            };
            let current = self.current.get(name);
            match desired {
                None if current.is_some() => {
                    push_line(&mut unsets, shell::unset_var(self.shell, name))
                }
                Some(v) if current != Some(v.as_str()) => {
                    push_line(&mut exports, shell::set_var(self.shell, name, &v));
                }
                _ => {}
            }
        }
        let refresh_at = match active {
            Some(Active { state: fields, refresh_at, .. }) => {
                state =
                    HookState { set: state.set, saved: state.saved, told: state.told, ..fields };
                refresh_at
            }
            None => self.retry_at.map_or(0, |at| at.as_second()),
        };
        let stamp = self.write_stamp(env);
        let mut out = unsets;
        out.push_str(&exports);
        let file = self
            .project_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let marker =
            self.marker.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        let stamp = stamp.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        for (name, value) in [
            (STATE_VAR, state.encode()),
            (FILE_VAR, file),
            (MARKER_VAR, marker),
            (STAMP_VAR, stamp),
            (REFRESH_AT_VAR, refresh_at.to_string()),
        ] {
            push_line(&mut out, shell::set_local(self.shell, name, &value));
        }
        HookOutput { stdout: out, messages: std::mem::take(&mut self.messages), state }
    }

    /// Sets this shell's stamp to the newest mtime of the project file and the marker, so the
    /// shell runs the hook again only once either is newer. `None` when it cannot be written:
    /// the shell then runs the hook whenever either exists.
    fn write_stamp(&self, env: &Environment) -> Option<PathBuf> {
        let pid = self.shell_pid.unwrap_or_else(parent_pid);
        let path = our_cache_dir(env)?.join("hook").join(format!("{STAMP_PREFIX}{pid}"));
        let newest = self
            .project_mtime
            .into_iter()
            .chain(self.marker_mtime)
            .max()
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let result = crate::fs::create_private_dir(crate::fs::parent_dir(&path))
            .map_err(|e| e.to_string())
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(newest))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            });
        match result {
            Ok(()) => {
                sweep_stamps(crate::fs::parent_dir(&path), &path, SystemTime::now());
                Some(path)
            }
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }
}

/// What every stamp file's name starts with; the shell's pid follows.
const STAMP_PREFIX: &str = "stamp-";

/// A stamp the hook has not rewritten for this long belongs to a shell that is gone, or idle
/// for so long that one more hook run costs it nothing.
const STAMP_KEPT_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// Removes the stamps of other shells that have exited (on Linux, where `/proc` says so) or that
/// the hook has not rewritten for [`STAMP_KEPT_FOR`], so that one file per shell ever started
/// does not pile up. Removing a live shell's stamp is harmless: its next prompt finds the stamp
/// missing and runs the hook once, which writes it again. The age is the stamp's change time,
/// since its mtime is set to that of the project file or the marker.
fn sweep_stamps(dir: &Path, own: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(pid) = entry.file_name().to_str().and_then(stamp_pid) else { continue };
        if path == own {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() && (shell_is_gone(pid) || changed_before(&meta, now - STAMP_KEPT_FOR)) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The shell pid a stamp file is named for (`stamp-PID`, as [`Run::write_stamp`] names it).
fn stamp_pid(file_name: &str) -> Option<u32> {
    let digits = file_name.strip_prefix(STAMP_PREFIX)?;
    digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
}

/// Whether `/proc` says that no process `pid` exists (never on systems without `/proc`).
fn shell_is_gone(pid: u32) -> bool {
    cfg!(target_os = "linux")
        && Path::new("/proc/self").exists()
        && !Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(unix)]
fn changed_before(meta: &std::fs::Metadata, when: SystemTime) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let when = when.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u64::try_from(meta.ctime()).is_ok_and(|ctime| ctime < when)
}

#[cfg(not(unix))]
fn changed_before(meta: &std::fs::Metadata, when: SystemTime) -> bool {
    meta.modified().is_ok_and(|t| t < when)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn push_line(out: &mut String, line: Result<String, shell::ShellError>) {
    match line {
        Ok(line) => out.push_str(&line),
        // Names are ours and values come from files that cannot hold a NUL: not reached.
        Err(e) => tracing::warn!("{e}"),
    }
}

#[cfg(unix)]
fn parent_pid() -> u32 {
    std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn parent_pid() -> u32 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::role_credentials::{RoleCredentialsKey, save_role_credentials};
    use crate::cache::token::{CachedToken, save_token};
    use crate::config::project::PROJECT_FILE_NAME;
    use crate::secret::Secret;
    use crate::session::SessionRequest;
    use crate::shell::quote_fish;

    const ACCOUNT: &str = "123456789012";
    const ROLE: &str = "ReadOnly";
    const PID: u32 = 4242;

    /// A home with one `[sso-session corp]`, a shell simulated by its managed variables and
    /// its state, and the projects it can `cd` into.
    struct Home {
        dir: tempfile::TempDir,
        env: Environment,
        shell: Shell,
        vars: Vars,
        state: String,
    }

    impl Home {
        fn new(shell: Shell) -> Home {
            let dir = tempfile::tempdir().expect("tempdir");
            let aws = dir.path().join(".aws");
            std::fs::create_dir_all(&aws).expect("mkdir");
            std::fs::write(
                aws.join("config"),
                "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
            )
            .expect("config");
            let env = Environment::from_pairs([(env::HOME, dir.path().to_string_lossy())]);
            let home = Home { dir, env, shell, vars: Vars::default(), state: String::new() };
            home.login(SignedDuration::from_hours(8));
            home
        }

        fn path(&self, relative: &str) -> PathBuf {
            self.dir.path().join(relative)
        }

        fn login(&self, expires_in: SignedDuration) {
            let token = CachedToken {
                start_url: Some("https://corp.awsapps.com/start".into()),
                region: Some("eu-west-1".into()),
                access_token: Secret::new("ACCESS-TOKEN"),
                expires_at: Timestamp::now() + expires_in,
                client_id: None,
                client_secret: None,
                registration_expires_at: None,
                refresh_token: None,
            };
            let ctx = self.context();
            save_token(&ctx.caches.token_path("corp"), &token).expect("token");
        }

        fn cache_credentials(
            &self,
            account: &str,
            role: &str,
            key_id: &str,
            expires_in: SignedDuration,
        ) {
            let key = RoleCredentialsKey::Session {
                session_name: "corp".into(),
                account_id: account.into(),
                role_name: role.into(),
            };
            let creds = credentials(account, key_id, expires_in);
            save_role_credentials(&self.context().caches.role_credentials_path(&key), &creds)
                .expect("cache");
        }

        /// A project directory with a `.aws-sso.yaml`, allowed when `allowed`.
        fn project(&self, dir: &str, text: &str, allowed: bool) -> PathBuf {
            let dir = self.path(dir);
            std::fs::create_dir_all(&dir).expect("mkdir");
            let file = dir.join(PROJECT_FILE_NAME);
            std::fs::write(&file, text).expect("write");
            if allowed {
                trust::allow(&self.env, &load_project_file(&file).expect("valid")).expect("allow");
            }
            dir
        }

        fn context(&self) -> Context {
            let state = HookState::decode(Some(&self.state));
            let mut env = self.env.clone();
            for (name, value) in &self.vars.0 {
                env.set(name.clone(), value.clone());
            }
            Context::load(resolution_env(&env, &state), None).expect("context")
        }

        fn input(&self, pwd: &Path) -> HookInput {
            HookInput {
                state: HookState::decode(Some(&self.state)),
                pwd: pwd.to_path_buf(),
                shell_pid: Some(PID),
                current: self.vars.clone(),
                now: Timestamp::now(),
            }
        }

        fn plan(&self, pwd: &Path) -> Step {
            plan(&self.context(), self.shell, self.input(pwd))
        }

        /// One prompt in `pwd`: the hook's output, applied to the simulated shell. Fetching
        /// is not expected.
        fn cd(&mut self, pwd: &Path) -> HookOutput {
            let output = run_hook(&self.context(), self.shell, self.input(pwd), |req| {
                panic!("unexpected fetch for {} {}", req.account_id, req.role_name)
            });
            self.apply(&output);
            output
        }

        /// A prompt in the home directory, outside every project.
        fn leave(&mut self) -> HookOutput {
            let home = self.dir.path().to_path_buf();
            self.cd(&home)
        }

        fn apply(&mut self, output: &HookOutput) {
            for (name, value) in parse_output(self.shell, &output.stdout) {
                if name == STATE_VAR {
                    self.state = value.expect("state assigned");
                } else if name.starts_with("_AWS_SSO_") {
                } else {
                    match value {
                        Some(value) => self.vars.0.insert(name, value),
                        None => self.vars.0.remove(&name),
                    };
                }
            }
            assert_eq!(HookState::decode(Some(&self.state)), output.state.clone().normalized());
        }

        fn set(&mut self, name: &str, value: &str) {
            self.vars.0.insert(name.to_owned(), value.to_owned());
        }

        fn var(&self, name: &str) -> Option<&str> {
            self.vars.get(name)
        }

        /// `stdout` with the temporary home written `~`.
        fn shown(&self, output: &HookOutput) -> String {
            output.stdout.replace(&*self.dir.path().to_string_lossy(), "~")
        }
    }

    impl HookState {
        fn normalized(self) -> HookState {
            if self.set.is_empty() && self.saved.is_empty() && self.told.is_empty() {
                HookState::default()
            } else {
                HookState { v: HookState::VERSION, ..self }
            }
        }
    }

    fn credentials(account: &str, key_id: &str, expires_in: SignedDuration) -> RoleCredentials {
        RoleCredentials {
            access_key_id: key_id.into(),
            secret_access_key: Secret::new(format!("SECRET-OF-{key_id}")),
            session_token: Secret::new(format!("TOKEN-OF-{key_id}")),
            expiration: Timestamp::from_second((Timestamp::now() + expires_in).as_second())
                .expect("time"),
            account_id: account.into(),
        }
    }

    /// Each assignment of the hook's output (`None`: unset), reading the quoting the way the
    /// shell does; a quoted value may span lines.
    fn parse_output(shell: Shell, out: &str) -> Vec<(String, Option<String>)> {
        let (unset, sets, separator) = match shell {
            Shell::Fish => ("set -e -g ", ["set -gx ", "set -g "], ' '),
            _ => ("unset -v ", ["export ", ""], '='),
        };
        let mut assignments = Vec::new();
        let mut rest = out;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix(unset) {
                let (name, r) = r.split_once('\n').expect("a line");
                assignments.push((name.to_owned(), None));
                rest = r;
                continue;
            }
            let r = sets.iter().find_map(|p| rest.strip_prefix(p)).expect("an assignment");
            let (name, r) = r.split_once(separator).expect("name and value");
            let (value, r) = read_quoted(shell, r);
            rest = r.strip_prefix('\n').expect("the end of the line");
            assignments.push((name.to_owned(), Some(value)));
        }
        assignments
    }

    fn read_quoted(shell: Shell, text: &str) -> (String, &str) {
        let mut value = String::new();
        let mut chars = text.char_indices();
        assert_eq!(chars.next().map(|(_, c)| c), Some('\''), "quoted: {text}");
        loop {
            let (i, c) = chars.next().expect("a closing quote");
            match (shell, c) {
                (Shell::Fish, '\\') => value.push(chars.next().expect("escaped").1),
                (Shell::Fish, '\'') => return (value, &text[i + 1..]),
                (_, '\'') => {
                    // `'\''`: close, an escaped quote, reopen.
                    if text[i + 1..].starts_with("\\''") {
                        value.push('\'');
                        chars.nth(2);
                    } else {
                        return (value, &text[i + 1..]);
                    }
                }
                (_, c) => value.push(c),
            }
        }
    }

    fn project_text(account: &str) -> String {
        format!("account: \"{account}\"\nrole: {ROLE}\nregion: eu-west-1\n")
    }

    fn bookkeeping_names(out: &str) -> Vec<&str> {
        out.lines().map(|l| l.split('=').next().unwrap_or(l)).collect()
    }

    /// The variables other than the bookkeeping that `out` sets or unsets.
    fn changed_vars(shell: Shell, out: &str) -> Vec<String> {
        let names = parse_output(shell, out).into_iter().map(|(name, _)| name);
        names.filter(|n| !n.starts_with("_AWS_SSO_")).collect()
    }

    #[test]
    fn entering_a_trusted_project_exports_its_credentials() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.set("AWS_PROFILE", "dev");
        home.set("AWS_REGION", "us-east-1");
        let output = home.cd(&project.join("src"));
        assert_eq!(output.messages, Vec::<String>::new());
        let expiration = home.var("AWS_CREDENTIAL_EXPIRATION").expect("exported").to_owned();
        let state = HookState::decode(Some(&home.state));
        let refresh_at = parse_credentials_time(&expiration) - 300;
        assert_eq!(
            home.shown(&output),
            format!(
                "unset -v AWS_PROFILE
export AWS_ACCESS_KEY_ID='ASIAFIRST'
export AWS_SECRET_ACCESS_KEY='SECRET-OF-ASIAFIRST'
export AWS_SESSION_TOKEN='TOKEN-OF-ASIAFIRST'
export AWS_CREDENTIAL_EXPIRATION='{expiration}'
export AWS_REGION='eu-west-1'
export AWS_DEFAULT_REGION='eu-west-1'
export AWS_SSO_ACCOUNT_ID='123456789012'
export AWS_SSO_ROLE_NAME='ReadOnly'
export AWS_SSO_PROFILE='123456789012:ReadOnly'
_AWS_SSO_STATE='{}'
_AWS_SSO_FILE='~/billing/.aws-sso.yaml'
_AWS_SSO_MARKER='~/.cache/aws-sso/hook-marker'
_AWS_SSO_STAMP='~/.cache/aws-sso/hook/stamp-4242'
_AWS_SSO_REFRESH_AT='{refresh_at}'
",
                home.state.replace(&*home.dir.path().to_string_lossy(), "~")
            )
        );
        assert_eq!(state.access_key_id.as_deref(), Some("ASIAFIRST"));
        assert_eq!(state.saved.get("AWS_PROFILE"), Some(&Some("dev".to_owned())));
        assert_eq!(state.saved.get("AWS_REGION"), Some(&Some("us-east-1".to_owned())));
        assert_eq!(state.saved.get("AWS_ACCESS_KEY_ID"), Some(&None));
        // The stamp holds the newest mtime of the project file (the marker does not exist).
        let stamp = home.path(".cache/aws-sso/hook/stamp-4242");
        let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(mtime(&stamp), mtime(&project.join(PROJECT_FILE_NAME)));
    }

    fn parse_credentials_time(text: &str) -> i64 {
        crate::time::parse_lenient(text).expect("time").as_second()
    }

    #[test]
    fn staying_prints_only_the_bookkeeping() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&project);
        let before = home.state.clone();
        std::fs::create_dir_all(project.join("deeper")).expect("mkdir");
        let output = home.cd(&project.join("deeper"));
        assert_eq!(
            bookkeeping_names(&output.stdout),
            [STATE_VAR, FILE_VAR, MARKER_VAR, STAMP_VAR, REFRESH_AT_VAR]
        );
        assert_eq!(home.state, before);
        assert!(output.messages.is_empty());
    }

    #[test]
    fn moving_to_another_project_replaces_and_keeps_what_the_user_had() {
        let mut home = Home::new(Shell::Bash);
        let billing = home.project("billing", &project_text(ACCOUNT), true);
        let other = home.project("web", "account: \"210987654321\"\nrole: Admin\n", true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cache_credentials(
            "210987654321",
            "Admin",
            "ASIASECOND",
            SignedDuration::from_hours(1),
        );
        home.set("AWS_PROFILE", "dev");
        home.set("AWS_REGION", "us-east-1");
        home.cd(&billing);
        let output = home.cd(&other);
        assert!(
            output.stdout.starts_with(
                "unset -v AWS_DEFAULT_REGION\nexport AWS_ACCESS_KEY_ID='ASIASECOND'\n"
            ),
            "{}",
            output.stdout
        );
        assert!(!output.stdout.contains("unset -v AWS_PROFILE"), "still unset: {}", output.stdout);
        // The second project names no region: the user's comes back.
        assert_eq!(home.var("AWS_REGION"), Some("us-east-1"));
        assert_eq!(home.var("AWS_DEFAULT_REGION"), None);
        assert_eq!(home.var("AWS_SSO_ROLE_NAME"), Some("Admin"));
        assert_eq!(home.var("AWS_PROFILE"), None);
        let state = HookState::decode(Some(&home.state));
        assert_eq!(state.saved.get("AWS_PROFILE"), Some(&Some("dev".to_owned())));

        home.leave();
        assert_eq!(home.var("AWS_PROFILE"), Some("dev"));
        assert_eq!(home.var("AWS_REGION"), Some("us-east-1"));
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
        assert_eq!(home.state, "");
    }

    #[test]
    fn leaving_restores_and_leaves_alone_what_the_user_changed() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.set("AWS_PROFILE", "dev");
        home.set("AWS_DEFAULT_REGION", "us-west-2");
        home.cd(&project);
        home.set("AWS_REGION", "ap-south-1");
        let output = home.leave();
        assert_eq!(
            home.shown(&output),
            "unset -v AWS_ACCESS_KEY_ID
unset -v AWS_SECRET_ACCESS_KEY
unset -v AWS_SESSION_TOKEN
unset -v AWS_CREDENTIAL_EXPIRATION
unset -v AWS_SSO_ACCOUNT_ID
unset -v AWS_SSO_ROLE_NAME
unset -v AWS_SSO_PROFILE
export AWS_DEFAULT_REGION='us-west-2'
export AWS_PROFILE='dev'
_AWS_SSO_STATE=''
_AWS_SSO_FILE=''
_AWS_SSO_MARKER='~/.cache/aws-sso/hook-marker'
_AWS_SSO_STAMP='~/.cache/aws-sso/hook/stamp-4242'
_AWS_SSO_REFRESH_AT='0'
"
        );
        assert_eq!(home.var("AWS_REGION"), Some("ap-south-1"), "the user's change stays");
    }

    #[test]
    fn leaving_keeps_credentials_the_user_replaced() {
        let mut home = Home::new(Shell::Zsh);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&project);
        home.set("AWS_ACCESS_KEY_ID", "AKIAMINE");
        home.set("AWS_SECRET_ACCESS_KEY", "my-secret");
        home.leave();
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("AKIAMINE"));
        assert_eq!(home.var("AWS_SECRET_ACCESS_KEY"), Some("my-secret"));
        // The session token follows the key id: the user replaced the credentials.
        assert_eq!(home.var("AWS_SESSION_TOKEN"), Some("TOKEN-OF-ASIAFIRST"));
        assert_eq!(home.var("AWS_SSO_ACCOUNT_ID"), None);
    }

    #[test]
    fn an_untrusted_file_is_told_once_and_unsets_what_was_set() {
        let mut home = Home::new(Shell::Bash);
        let trusted = home.project("a", &project_text(ACCOUNT), true);
        let untrusted = home.project("b", &project_text(ACCOUNT), false);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&trusted);
        let output = home.cd(&untrusted);
        let file = untrusted.join(PROJECT_FILE_NAME);
        assert_eq!(
            output.messages,
            [format!(
                "aws-sso: {} is not allowed, so no credentials are set. Review it, then run: aws-sso-env allow '{}'",
                file.display(),
                file.display()
            )]
        );
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
        assert!(output.stdout.contains(&format!("_AWS_SSO_FILE='{}'", file.display())));
        std::fs::create_dir_all(untrusted.join("sub")).expect("mkdir");
        assert!(home.cd(&untrusted.join("sub")).messages.is_empty(), "told once");

        // Allowed: the next run exports, without a message.
        trust::allow(&home.env, &load_project_file(&file).expect("valid")).expect("allow");
        let output = home.cd(&untrusted);
        assert!(output.messages.is_empty());
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAFIRST"));

        // Edited: no longer trusted, told again.
        std::fs::write(&file, project_text("999999999999")).expect("edit");
        let output = home.cd(&untrusted);
        assert_eq!(output.messages.len(), 1);
        assert!(
            output.messages[0].contains("changed since it was allowed"),
            "{:?}",
            output.messages
        );
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    }

    #[test]
    fn an_expired_session_unsets_and_names_aws_sso_login() {
        let mut home = Home::new(Shell::Fish);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&project);
        home.login(SignedDuration::from_mins(-1));
        let output = home.cd(&project);
        assert_eq!(output.messages.len(), 1, "{:?}", output.messages);
        assert!(output.messages[0].starts_with("aws-sso: the login of corp expired at "));
        assert!(output.messages[0].ends_with("Run: aws-sso-login --sso-session corp"));
        assert!(output.stdout.starts_with("set -e -g AWS_ACCESS_KEY_ID\n"), "{}", output.stdout);
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
        assert!(home.cd(&project).messages.is_empty(), "told once");

        // Logged in again (the marker makes the shell run the hook): back.
        home.login(SignedDuration::from_hours(8));
        assert!(home.cd(&project).messages.is_empty());
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAFIRST"));
    }

    #[test]
    fn a_logged_out_session_names_aws_sso_login() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        std::fs::remove_file(home.context().caches.token_path("corp")).expect("logout");
        let output = home.cd(&project);
        assert_eq!(
            output.messages,
            [
                "aws-sso: not logged in to corp; credentials unset. Run: aws-sso-login --sso-session corp"
            ]
        );
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    }

    #[test]
    fn the_users_own_credentials_are_left_alone_and_told_once() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.set("AWS_ACCESS_KEY_ID", "AKIAMINE");
        home.set("AWS_PROFILE", "dev");
        let output = home.cd(&project);
        assert_eq!(
            output.messages,
            [
                "aws-sso: this shell has credentials of its own (AWS_ACCESS_KEY_ID); leaving them alone"
            ]
        );
        assert_eq!(
            changed_vars(Shell::Bash, &output.stdout),
            Vec::<String>::new(),
            "nothing exported"
        );
        assert_eq!(home.var("AWS_PROFILE"), Some("dev"));
        let elsewhere = home.project("web", &project_text(ACCOUNT), true);
        assert!(home.leave().messages.is_empty());
        assert!(home.cd(&elsewhere).messages.is_empty(), "told once per shell");
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("AKIAMINE"));
    }

    #[test]
    fn credentials_due_for_refresh_are_fetched_and_replaced() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&project);
        // Four minutes left: inside the reuse window.
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_mins(4));
        let Step::NeedsCredentials(pending) = home.plan(&project) else {
            panic!("a fetch is needed");
        };
        assert_eq!(pending.request().account_id, ACCOUNT);
        assert_eq!(pending.request().role_name, ROLE);
        let fresh = credentials(ACCOUNT, "ASIASECOND", SignedDuration::from_hours(1));
        let expires = fresh.expiration.as_second();
        let env = home.env.clone();
        let output = pending.finish(&env, Ok(fresh));
        home.apply(&output);
        assert!(output.stdout.starts_with("export AWS_ACCESS_KEY_ID='ASIASECOND'\n"));
        assert!(
            !output.stdout.contains("export AWS_SSO_ACCOUNT_ID"),
            "unchanged values are not printed"
        );
        assert!(output.stdout.ends_with(&format!("_AWS_SSO_REFRESH_AT='{}'\n", expires - 300)));
        assert_eq!(home.var("AWS_SECRET_ACCESS_KEY"), Some("SECRET-OF-ASIASECOND"));
    }

    #[test]
    fn short_lived_credentials_refresh_half_way() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        let Step::NeedsCredentials(pending) = home.plan(&project) else { panic!("not cached") };
        let output = pending.finish(
            &home.env.clone(),
            Ok(credentials(ACCOUNT, "ASIA", SignedDuration::from_mins(2))),
        );
        home.apply(&output);
        let line = output.stdout.lines().last().expect("refresh line");
        let at: i64 = line
            .trim_start_matches("_AWS_SSO_REFRESH_AT='")
            .trim_end_matches('\'')
            .parse()
            .expect("n");
        let now = Timestamp::now().as_second();
        assert!((now + 50..=now + 61).contains(&at), "{at} vs {now}");
    }

    #[test]
    fn a_fetch_that_times_out_fails_closed_and_retries() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&project);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_mins(1));
        let output = run_hook(&home.context(), Shell::Bash, home.input(&project), |_| {
            Err(FetchError::TimedOut(Duration::from_secs(2)))
        });
        home.apply(&output);
        assert_eq!(
            output.messages,
            [
                "aws-sso: the SSO portal did not answer within 2 s for role ReadOnly in account 123456789012; no credentials are set, trying again in a minute"
            ]
        );
        for name in MANAGED {
            assert_eq!(home.var(name), None, "{name} unset: nothing half-set");
        }
        let now = Timestamp::now().as_second();
        let at = output.stdout.lines().last().expect("line");
        assert!(
            at == format!("_AWS_SSO_REFRESH_AT='{}'", now + 60)
                || at == format!("_AWS_SSO_REFRESH_AT='{}'", now + 59),
            "{at}"
        );
    }

    #[test]
    fn a_rejected_login_names_aws_sso_login_and_does_not_retry() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        let output = run_hook(&home.context(), Shell::Bash, home.input(&project), |req| {
            Err(FetchError::Failed(
                crate::credentials::CredentialsError::LoginRejected {
                    session: req.target.display_name(),
                    selector: req.target.selector(),
                    account_id: req.account_id.to_owned(),
                    role_name: req.role_name.to_owned(),
                }
                .into(),
            ))
        });
        home.apply(&output);
        assert_eq!(output.messages.len(), 1);
        assert!(
            output.messages[0].ends_with("Run: aws-sso-login --sso-session corp"),
            "{:?}",
            output.messages
        );
        assert!(output.stdout.ends_with("_AWS_SSO_REFRESH_AT='0'\n"));
    }

    #[test]
    fn an_invalid_project_file_fails_closed() {
        let mut home = Home::new(Shell::Bash);
        let good = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&good);
        std::fs::write(good.join(PROJECT_FILE_NAME), "acount: 1\n").expect("typo");
        let output = home.cd(&good);
        assert_eq!(output.messages.len(), 1);
        assert!(output.messages[0].contains(".aws-sso.yaml"), "{:?}", output.messages);
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    }

    #[test]
    fn an_account_name_the_cache_cannot_answer_names_aws_sso_ls() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("a", "account: Billing\nrole: ReadOnly\n", true);
        let output = home.cd(&project);
        assert_eq!(output.messages.len(), 1);
        assert!(
            output.messages[0]
                .ends_with("Fetch the list with: aws-sso-ls --refresh --sso-session corp"),
            "{:?}",
            output.messages
        );
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
        assert!(!output.stdout.ends_with("_AWS_SSO_REFRESH_AT='0'\n"), "tried again later");
    }

    #[test]
    fn fail_closed_unsets_what_was_set() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.set("AWS_PROFILE", "dev");
        home.cd(&project);
        let output =
            fail_closed(&home.env, Shell::Bash, home.input(&project), "cannot read ~/.aws/config");
        home.apply(&output);
        assert_eq!(output.messages, ["aws-sso: cannot read ~/.aws/config; no credentials are set"]);
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
        assert_eq!(home.var("AWS_PROFILE"), Some("dev"));
    }

    const HOSTILE: &str = "it's \"$(touch pwned)\" `id`; \\n\nnext \\ é ☃ $HOME";

    #[test]
    fn hostile_values_and_paths_are_quoted_for_each_shell() {
        use crate::cache::accounts::{
            AccountCache, CachedAccount, account_cache_path, save_account_cache,
        };
        for shell in Shell::ALL {
            let mut home = Home::new(shell);
            let role = "Role'$(id)`x`;\\";
            let yaml_role = role.replace('\\', "\\\\");
            let yaml_name = HOSTILE.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            let dir = "dir 'with' \"quotes\" $(x) `y`;\nline é";
            let project = home.project(
                dir,
                &format!("account: \"{yaml_name}\"\nrole: \"{yaml_role}\"\n"),
                true,
            );
            let ctx = home.context();
            let target = crate::session::resolve(&ctx, &SessionRequest::default()).expect("target");
            let mut cache = AccountCache::new(&target, Timestamp::now());
            cache.accounts.push(CachedAccount {
                account_id: ACCOUNT.into(),
                account_name: HOSTILE.into(),
                email_address: None,
                roles: vec![role.into()],
                roles_fetched_at: Some(Timestamp::now()),
            });
            let path = account_cache_path(&ctx.env, &target).expect("cache path");
            save_account_cache(&path, &cache).expect("save");
            home.cache_credentials(ACCOUNT, role, "ASIAFIRST", SignedDuration::from_hours(1));

            let output = home.cd(&project);
            assert!(output.messages.is_empty(), "{:?}", output.messages);
            assert_eq!(home.var("AWS_SSO_ACCOUNT_NAME"), Some(HOSTILE), "{shell}");
            assert_eq!(home.var("AWS_SSO_ROLE_NAME"), Some(role), "{shell}");
            let profile = format!("{HOSTILE}:{role}");
            assert_eq!(home.var("AWS_SSO_PROFILE"), Some(profile.as_str()), "{shell}");
            let file = project.join(PROJECT_FILE_NAME).to_string_lossy().into_owned();
            let (name_line, file_line) = match shell {
                Shell::Fish => (
                    format!("set -gx AWS_SSO_ACCOUNT_NAME {}\n", quote_fish(HOSTILE)),
                    format!("set -g _AWS_SSO_FILE {}\n", quote_fish(&file)),
                ),
                _ => (
                    format!("export AWS_SSO_ACCOUNT_NAME={}\n", quote_posix(HOSTILE)),
                    format!("_AWS_SSO_FILE={}\n", quote_posix(&file)),
                ),
            };
            assert!(output.stdout.contains(&name_line), "{}", output.stdout);
            assert!(output.stdout.contains(&file_line), "{}", output.stdout);
            let state = HookState::decode(Some(&home.state));
            assert_eq!(state.file.as_deref(), Some(file.as_str()));
            assert_eq!(state.account_name.as_deref(), Some(HOSTILE));
            // Staying: the values read back from the shell match, nothing is printed again.
            let output = home.cd(&project);
            assert_eq!(changed_vars(shell, &output.stdout), Vec::<String>::new(), "{shell}");
            // Back out: everything goes.
            home.leave();
            assert_eq!(home.vars, Vars::default(), "{shell}");
        }
    }

    #[test]
    fn the_state_holds_no_secret() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.cd(&project);
        assert!(home.state.contains("ASIAFIRST"), "{}", home.state);
        assert!(!home.state.contains("SECRET-OF-ASIAFIRST"), "{}", home.state);
        assert!(!home.state.contains("TOKEN-OF-ASIAFIRST"), "{}", home.state);
        assert!(!home.state.contains("ACCESS-TOKEN"), "{}", home.state);
        assert!(!format!("{:?}", HookState::decode(Some(&home.state))).contains("SECRET-OF"));
    }

    #[test]
    fn entering_prints_each_shells_own_code() {
        let expected = [
            (
                Shell::Zsh,
                "unset -v AWS_PROFILE\nexport AWS_ACCESS_KEY_ID='ASIAFIRST'\n",
                "_AWS_SSO_REFRESH_AT='",
            ),
            (
                Shell::Fish,
                "set -e -g AWS_PROFILE\nset -gx AWS_ACCESS_KEY_ID 'ASIAFIRST'\n",
                "set -g _AWS_SSO_REFRESH_AT '",
            ),
        ];
        for (shell, start, last) in expected {
            let mut home = Home::new(shell);
            let project = home.project("a", &project_text(ACCOUNT), true);
            home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
            home.set("AWS_PROFILE", "dev");
            let output = home.cd(&project);
            assert!(output.stdout.starts_with(start), "{shell}: {}", output.stdout);
            assert!(
                output.stdout.lines().last().is_some_and(|l| l.starts_with(last)),
                "{}",
                output.stdout
            );
            let output = home.leave();
            let restore = match shell {
                Shell::Fish => "set -gx AWS_PROFILE 'dev'\n",
                _ => "export AWS_PROFILE='dev'\n",
            };
            assert!(output.stdout.contains(restore), "{}", output.stdout);
        }
    }

    #[test]
    fn the_stamp_follows_the_newest_of_the_file_and_the_marker() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        let mtime = |p: &Path| modified(p).expect("mtime");
        let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let file = project.join(PROJECT_FILE_NAME);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(long_ago))
            .expect("backdate");
        trust::touch_marker(&home.env).expect("touch");
        home.cd(&project);
        let stamp = home.path(".cache/aws-sso/hook/stamp-4242");
        let marker = trust::marker_path(&home.env).expect("marker");
        assert_eq!(mtime(&stamp), mtime(&marker));
        // Outside every project, with no marker: the stamp is older than anything to come.
        std::fs::remove_file(&marker).expect("rm");
        home.leave();
        assert_eq!(mtime(&stamp), SystemTime::UNIX_EPOCH);
    }

    #[test]
    fn stamps_of_shells_that_are_gone_are_swept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stamp = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, "").expect("write");
            path
        };
        let own = stamp("stamp-4242");
        // This test's own process is alive; pid 4,000,000,000 cannot be.
        let alive = stamp(&format!("stamp-{}", std::process::id()));
        let gone = stamp("stamp-4000000000");
        let other = stamp("stamp-notes.txt");
        sweep_stamps(dir.path(), &own, SystemTime::now());
        assert!(own.exists() && alive.exists() && other.exists());
        assert_eq!(gone.exists(), !cfg!(target_os = "linux"));
        // A week on, every stamp but this shell's own is stale, alive or not.
        let next_week = SystemTime::now() + STAMP_KEPT_FOR + Duration::from_secs(60);
        sweep_stamps(dir.path(), &own, next_week);
        assert!(own.exists() && other.exists());
        assert!(!alive.exists() && !gone.exists());
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        let output = home.cd(&project);
        assert!(output.stdout.contains("SECRET-OF-ASIAFIRST"));
        let debug = format!("{output:?} {:?}", home.input(&project));
        assert!(!debug.contains("SECRET-OF"), "{debug}");
        assert!(!debug.contains("TOKEN-OF"), "{debug}");
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_mins(1));
        let Step::NeedsCredentials(pending) = home.plan(&project) else { panic!("due") };
        let debug = format!("{pending:?}");
        assert!(!debug.contains("SECRET-OF") && !debug.contains("TOKEN-OF"), "{debug}");
    }

    #[test]
    fn a_state_that_cannot_be_read_counts_as_nothing_active() {
        assert_eq!(HookState::decode(Some("{not json")), HookState::default());
        assert_eq!(
            HookState::decode(Some(r#"{"v":2,"set":["AWS_REGION"]}"#)),
            HookState::default()
        );
        assert_eq!(HookState::decode(None), HookState::default());
        assert_eq!(HookState::default().encode(), "");
    }

    #[test]
    fn the_timeout_comes_from_the_environment() {
        assert_eq!(timeout(&Environment::default()), DEFAULT_TIMEOUT);
        let env = Environment::from_pairs([(env::AWS_SSO_HOOK_TIMEOUT, "0.5")]);
        assert_eq!(timeout(&env), Duration::from_millis(500));
        let env = Environment::from_pairs([(env::AWS_SSO_HOOK_TIMEOUT, "soon")]);
        assert_eq!(timeout(&env), DEFAULT_TIMEOUT);
    }

    #[test]
    fn the_pwd_comes_from_the_shell() {
        let env = Environment::from_pairs([
            (env::PWD, "/p/with space"),
            (env::AWS_SSO_HOOK_SHELL_PID, "77"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_SECRET_ACCESS_KEY_X", "not ours"),
        ]);
        let input = HookInput::from_env(&env, PathBuf::from("/fallback"));
        assert_eq!(input.pwd, Path::new("/p/with space"));
        assert_eq!(input.shell_pid, Some(77));
        assert_eq!(input.current, Vars::from_pairs([("AWS_REGION", "eu-west-1")]));
        let env = Environment::from_pairs([(env::PWD, "relative")]);
        assert_eq!(
            HookInput::from_env(&env, PathBuf::from("/fallback")).pwd,
            Path::new("/fallback")
        );
    }
}
