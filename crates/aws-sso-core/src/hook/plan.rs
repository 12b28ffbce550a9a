//! One run's decisions that need no network: which project file, its trust, the account and
//! role, the login and the cache; and, once the caller fetched them, the credentials.

use std::fmt::Display;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::run::Run;
use super::stamp::modified;
use super::state::Used;
use super::{HookInput, HookOutput, OWN_CREDENTIALS, RETRY_AFTER};
use crate::cache::role_credentials::RoleCredentials;
use crate::config::project::{ProjectFile, find_project_file};
use crate::credentials::{REUSE_WINDOW, RoleRequest};
use crate::env::Environment;
use crate::exit::ErrorKind;
use crate::resolve::{
    self, AccountsNeed, ProjectState, Resolution, ResolveError, ResolvedRole, RoleChoice,
    RoleSource,
};
use crate::session::{Context, TokenState, read_token};
use crate::shell::{CommandLine, Shell};
use crate::target::{SessionRequest, SessionTarget};

/// Why role credentials could not be fetched.
#[derive(Debug)]
pub enum FetchError {
    TimedOut(Duration),
    Failed(crate::Error),
    /// The call could not even start (no runtime).
    NotStarted(std::io::Error),
    /// Another process is fetching the same thing now.
    Busy,
}

/// Where [`plan`] stops.
// One per run, moved once: the size of a variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Step {
    Done(HookOutput),
    /// The role credentials are not cached: fetch them (with [`credentials::fetch`], bounded by
    /// [`super::timeout`]) and hand the result to [`Pending::finish`].
    NeedsCredentials(Pending),
    /// The project file names its account by name and the account cache cannot answer yet:
    /// fetch what it lacks (the index, or that account's roles) and plan again, or hand a
    /// failure to [`PendingAccounts::finish`].
    NeedsAccounts(PendingAccounts),
}

/// A run waiting for the account cache.
#[derive(Debug)]
pub struct PendingAccounts {
    run: Run,
    file: ProjectFile,
    pub need: AccountsNeed,
}

impl PendingAccounts {
    pub fn finish(self, env: &Environment, error: FetchError) -> HookOutput {
        let PendingAccounts { mut run, file, need } = self;
        let path = file.path.display();
        let account = crate::shell::printable(&file.account);
        let session = need.target.display_name();
        let what = if need.is_roles_only() {
            format!("the roles of account {account}")
        } else {
            format!("the account list of {session}")
        };
        let cause = format!("accounts:{path}");
        match error {
            FetchError::TimedOut(after) => run.tell(
                cause,
                format_args!(
                    "{path} names account {account}; fetching {what} takes longer than {} s, so it goes on in the background and the credentials follow on a later prompt",
                    after.as_secs_f64()
                ),
            ),
            FetchError::Busy => run.tell(
                cause,
                format_args!(
                    "{path} names account {account}; {what} is being fetched in the background, and the credentials follow on a later prompt"
                ),
            ),
            FetchError::Failed(e) if e.kind() == ErrorKind::NotLoggedIn => {
                run.tell(session_cause(&need.target), e);
            }
            FetchError::Failed(e) => {
                run.tell(cause, format_args!("{path} names account {account}, but {e}; no credentials are set"));
            }
            FetchError::NotStarted(e) => {
                run.tell(cause, format_args!("could not fetch {what} for {path}: {e}; no credentials are set"));
            }
        }
        run.retry_at = Some(run.now + RETRY_AFTER);
        run.deactivate(env)
    }
}

/// A run waiting for role credentials.
#[derive(Debug)]
pub struct Pending {
    run: Run,
    /// `None` for the role `aws-sso use` chose.
    file: Option<ProjectFile>,
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
            Ok(creds) => run.activate(env, file.as_ref(), &resolved, &creds),
            Err(error) => {
                let what = format!(
                    "role {} in account {}",
                    resolved.final_role_name(),
                    resolved.final_account_id()
                );
                let cause = format!("fetch:{}:{}", resolved.account_id, resolved.role_name);
                match error {
                    FetchError::TimedOut(after) => {
                        // A chained role waits on STS as well as on the portal.
                        let service = if resolved.chain.is_empty() {
                            "the SSO portal"
                        } else {
                            "the SSO portal or STS"
                        };
                        run.tell(
                            cause,
                            format_args!(
                                "{service} did not answer within {} s for {what}; no credentials are set, trying again in a minute",
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
                    FetchError::Busy => {
                        run.retry_at = Some(run.now + RETRY_AFTER);
                    }
                }
                run.deactivate(env)
            }
        }
    }
}

/// One whole run, with `fetch_accounts` called when the account cache must be filled (then the
/// run plans again from the cache) and `fetch` when the credentials must come from the portal.
pub fn run_hook(
    ctx: &Context,
    shell: Shell,
    input: HookInput,
    mut fetch_accounts: impl FnMut(&AccountsNeed) -> Result<(), FetchError>,
    fetch: impl FnOnce(&ResolvedRole) -> Result<RoleCredentials, FetchError>,
) -> HookOutput {
    // The index, then one account's roles: each fetched once at most.
    let mut fetched: Vec<AccountsNeed> = Vec::new();
    loop {
        match plan(ctx, shell, input.clone()) {
            Step::Done(output) => return output,
            Step::NeedsCredentials(pending) => {
                let fetched = fetch(&pending.resolved);
                return pending.finish(&ctx.env, fetched);
            }
            Step::NeedsAccounts(pending) => {
                if fetched.contains(&pending.need) {
                    let error = ResolveError::account_list_unreadable(&pending.need.target);
                    return pending.finish(&ctx.env, FetchError::Failed(error.into()));
                }
                if let Err(error) = fetch_accounts(&pending.need) {
                    return pending.finish(&ctx.env, error);
                }
                fetched.push(pending.need);
            }
        }
    }
}

/// Everything that needs no network: which project, its trust, the login, the cache.
pub fn plan(ctx: &Context, shell: Shell, input: HookInput) -> Step {
    let env = &ctx.env;
    let mut run = Run::new(env, shell, input);
    if let Some(used) = run.used.clone() {
        return plan_used(ctx, run, &used);
    }
    let Some(path) = find_project_file(&run.pwd) else {
        tracing::debug!("hook: no project file above {}; nothing should be set", run.pwd.display());
        return Step::Done(run.deactivate(env));
    };
    tracing::debug!("hook: project file {}", path.display());
    // Before the content: an edit after this read moves the mtime past the stamp.
    run.project_mtime = modified(&path);
    run.project_path = Some(path.clone());
    let allow = CommandLine::new("aws-sso-env allow").quoted(&path.to_string_lossy());
    // The same reading of the file and its trust as every command's (resolve::project_state);
    // only the words differ, since here nothing failed: the shell just gets no credentials.
    let file = match resolve::project_state(ctx, &path) {
        Ok(ProjectState::Trusted(file)) => file,
        Ok(ProjectState::NotAllowed(_)) => {
            run.tell(
                format!("untrusted:{}", path.display()),
                format_args!(
                    "{} is not allowed, so no credentials are set. Review it, then run: {allow}",
                    path.display()
                ),
            );
            return Step::Done(run.deactivate(env));
        }
        Ok(ProjectState::Changed(_)) => {
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
            run.tell(
                format!("invalid:{}", path.display()),
                format_args!("{e}; no credentials are set"),
            );
            return Step::Done(run.deactivate(env));
        }
    };
    tracing::debug!("hook: the project file is trusted");
    if let Some(name) = run.credentials_of_the_users_own() {
        run.tell(
            OWN_CREDENTIALS.to_owned(),
            format_args!("this shell has credentials of its own ({name}); leaving them alone"),
        );
        return Step::Done(run.deactivate(env));
    }
    let project = ProjectState::Trusted(file.clone());
    let mut resolved = match resolve::resolve_role(
        ctx,
        &resolve::env_request(env),
        &RoleChoice::default(),
        Some(&project),
    ) {
        Ok(Resolution::Resolved(resolved)) => resolved,
        Ok(Resolution::NeedsAccounts(need)) => {
            tracing::debug!("hook: the account cache cannot answer yet: {:?}", need.request);
            return Step::NeedsAccounts(PendingAccounts { run, file, need });
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
    let pending = Pending { run, file: Some(file), resolved };
    tracing::debug!(
        "hook: account {} role {} of {}",
        pending.resolved.account_id,
        pending.resolved.role_name,
        pending.resolved.session.display_name()
    );
    match resolve::cached_credentials(ctx, &pending.resolved, REUSE_WINDOW) {
        Some(creds) => {
            tracing::debug!("hook: role credentials cached until {}", creds.expiration);
            let Pending { mut run, file, resolved } = pending;
            Step::Done(run.activate(env, file.as_ref(), &resolved, &creds))
        }
        None => {
            tracing::debug!("hook: no usable role credentials cached; one GetRoleCredentials");
            Step::NeedsCredentials(pending)
        }
    }
}

/// The role `aws-sso use` chose wins over any project file, in every directory: it was resolved
/// to an id once, so only its session is looked up again (no account cache is read).
fn plan_used(ctx: &Context, mut run: Run, used: &Used) -> Step {
    let env = &ctx.env;
    // Still followed, so that a subshell within this project starts no process (the shell
    // compares the nearest file with this one); its trust does not matter while the use lasts.
    run.project_path = find_project_file(&run.pwd);
    run.project_mtime = run.project_path.as_deref().and_then(modified);
    tracing::debug!("hook: `aws-sso use` chose {}", used.label());
    if let Some(name) = run.credentials_of_the_users_own() {
        run.tell(
            OWN_CREDENTIALS.to_owned(),
            format_args!("this shell has credentials of its own ({name}); leaving them alone"),
        );
        return Step::Done(run.deactivate(env));
    }
    let request = SessionRequest {
        sso_session: used.sso_session.clone(),
        profile: used.profile.clone(),
        project_session: None,
    };
    let session = match crate::session::resolve(ctx, &request) {
        Ok(session) => session,
        Err(e) => {
            run.tell(
                format!("use:{}:{}", used.account_id, used.role_name),
                format_args!("{e}; no credentials are set"),
            );
            return Step::Done(run.deactivate(env));
        }
    };
    let resolved = ResolvedRole {
        session,
        account_id: used.account_id.clone(),
        account_name: used.account_name.clone(),
        role_name: used.role_name.clone(),
        region: used.region.clone(),
        source: RoleSource::Arguments,
        chain: Vec::new(),
    };
    if let Some(problem) = login_problem(ctx, &resolved.session, run.now) {
        run.tell(session_cause(&resolved.session), problem);
        return Step::Done(run.deactivate(env));
    }
    let pending = Pending { run, file: None, resolved };
    match resolve::cached_credentials(ctx, &pending.resolved, REUSE_WINDOW) {
        Some(creds) => {
            let Pending { mut run, resolved, .. } = pending;
            Step::Done(run.activate(env, None, &resolved, &creds))
        }
        None => Step::NeedsCredentials(pending),
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
