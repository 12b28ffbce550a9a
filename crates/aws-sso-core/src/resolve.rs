//! From the command line, the project file and the environment to one account and role
//! (docs/ARCHITECTURE.md §1 and §7): positional `ACCOUNT [ROLE]`, else the nearest trusted
//! `.aws-sso.yaml`, else `AWS_PROFILE`'s `sso_account_id` and `sso_role_name`.
//!
//! Resolution reads only files. When a name can only be answered by the account list and the
//! cache cannot answer it, it says so ([`Resolution::NeedsAccounts`]); [`role_credentials`] is
//! the whole ladder every command that needs credentials climbs: resolve, fetch the list and
//! resolve again (a refresh of it the second time), then the cached role credentials or
//! GetRoleCredentials. The shell hook climbs the same ladder without the network
//! ([`resolve_role`], then [`crate::credentials::cached`]) and fetches only the credentials.

use std::path::{Path, PathBuf};

use crate::cache::accounts::{
    AccountCache, AccountLookupError, account_cache_path, load_account_cache,
};
use crate::config::project::{ProjectFile, find_project_file, load_project_file};
use crate::config::{ConfigError, selected_profile};
use jiff::SignedDuration;

use crate::cache::accounts::INDEX_RECHECK;
use crate::cache::role_credentials::RoleCredentials;
use crate::chain::{self, ChainError, Hop, StsTarget};
use crate::credentials::{self, RoleRequest};
pub use crate::error::ResolveError;
use crate::error::{Error, Result};
use crate::names;
use crate::session::{self, AccountsRequest, AccountsSource, Context, RolesWanted};
use crate::shell::CredentialView;
use crate::target::{SessionError, SessionRequest, SessionTarget};
use crate::trust::{self, Trust};

/// What the command line named: `ACCOUNT [ROLE]`.
#[derive(Clone, Debug, Default)]
pub struct RoleChoice {
    pub account: Option<String>,
    pub role: Option<String>,
    /// `--assume-role ARN`: a role to assume from the one resolved.
    pub assume_role: Option<String>,
}

/// Where the account and role came from, for messages and `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleSource {
    Arguments,
    ProjectFile(PathBuf),
    Profile(String),
}

/// One account and role of one session: what credentials are for.
#[derive(Clone, Debug)]
pub struct ResolvedRole {
    pub session: SessionTarget,
    pub account_id: String,
    /// Known when the account was named by name, or the account cache was read.
    pub account_name: Option<String>,
    pub role_name: String,
    /// The region to export: the project file's, else the profile's `region` (for a chained
    /// profile, the first `region` from it down to its root).
    pub region: Option<String>,
    pub source: RoleSource,
    /// The roles assumed from this one, in order (empty for an Identity Center role used as
    /// it is): the credentials are the last one's.
    pub chain: Vec<Hop>,
}

impl ResolvedRole {
    /// What the formats, the hook and `exec` export for `creds` of this role: the region and
    /// account name as resolved (callers may replace either).
    pub fn credential_view(&self, creds: &RoleCredentials) -> CredentialView {
        CredentialView {
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            session_token: creds.session_token.clone(),
            expiration: creds.expiration,
            region: self.region.clone(),
            account_id: self.final_account_id().to_owned(),
            account_name: if self.chain.is_empty() { self.account_name.clone() } else { None },
            role_name: self.final_role_name().to_owned(),
        }
    }

    /// The account the credentials are for: the last assumed role's, else the Identity Center
    /// role's.
    pub fn final_account_id(&self) -> &str {
        self.chain.last().map_or(&self.account_id, |hop| &hop.account_id)
    }

    /// The role the credentials are for.
    pub fn final_role_name(&self) -> &str {
        self.chain.last().map_or(&self.role_name, |hop| &hop.role_name)
    }

    /// The Identity Center role at the root, as GetRoleCredentials names it.
    pub fn role_request(&self) -> RoleRequest<'_> {
        RoleRequest {
            target: &self.session,
            account_id: &self.account_id,
            role_name: &self.role_name,
        }
    }

    /// Where the chain's AssumeRole calls go: the region resolved, else the session's; the
    /// endpoint settings of the profile named, else the session's.
    fn sts_target(&self) -> StsTarget<'_> {
        let region =
            self.region.as_deref().filter(|r| !r.is_empty()).unwrap_or(&self.session.region);
        let profile = match &self.source {
            RoleSource::Profile(name) => Some(name.as_str()),
            _ => self.session.profile.as_deref(),
        };
        StsTarget { region, profile }
    }
}

/// The credentials of `resolved` cached with more than `window` left: the role's, or the last
/// assumed role's. No runtime, no HTTP client.
pub fn cached_credentials(
    ctx: &Context,
    resolved: &ResolvedRole,
    window: SignedDuration,
) -> Option<RoleCredentials> {
    if resolved.chain.is_empty() {
        credentials::cached(ctx, &resolved.role_request(), window)
    } else {
        chain::cached(ctx, &resolved.chain, window)
    }
}

/// The credentials of `resolved` with more than `window` left: cached, or fetched (and for a
/// chain, each role assumed in turn from the first that is not cached).
pub async fn fetch_credentials(
    ctx: &Context,
    resolved: &ResolvedRole,
    window: SignedDuration,
) -> Result<RoleCredentials> {
    if resolved.chain.is_empty() {
        credentials::fetch(ctx, &resolved.role_request(), window).await
    } else {
        let sts = resolved.sts_target();
        chain::fetch(ctx, &resolved.role_request(), &resolved.chain, &sts, window).await
    }
}

/// The outcome of [`resolve_role`].
#[derive(Debug)]
pub enum Resolution {
    Resolved(ResolvedRole),
    /// The account cache cannot answer yet: fetch what it lacks with [`session::accounts`] and
    /// resolve again.
    NeedsAccounts(AccountsNeed),
}

/// What the account cache lacks to resolve a name: the index (missing, or too old to say a name
/// is not in it), or the roles of the one account a name matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountsNeed {
    pub target: SessionTarget,
    pub request: AccountsRequest,
    /// The account as named, for messages.
    pub account: String,
}

impl AccountsNeed {
    fn index(target: SessionTarget, account: &str, refresh: bool) -> Resolution {
        Resolution::NeedsAccounts(AccountsNeed {
            target,
            request: AccountsRequest { refresh_index: refresh, ..AccountsRequest::default() },
            account: account.to_owned(),
        })
    }

    fn roles(target: SessionTarget, account: &str, account_id: &str) -> Resolution {
        Resolution::NeedsAccounts(AccountsNeed {
            target,
            request: AccountsRequest {
                refresh_roles: true,
                roles: RolesWanted::Of(vec![account_id.to_owned()]),
                ..AccountsRequest::default()
            },
            account: account.to_owned(),
        })
    }

    /// Only the roles of one account are missing: one request.
    pub fn is_roles_only(&self) -> bool {
        matches!(self.request.roles, RolesWanted::Of(_)) && !self.request.refresh_index
    }
}

/// Whether a resolution may ask for the account cache to be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// Ask ([`Resolution::NeedsAccounts`]) when the cache lacks something.
    Allowed,
    /// Answer from the cache as it is: a fetch was tried and could not help (no valid login).
    CacheOnly,
}

/// The project file in effect and whether it may be used.
#[derive(Debug)]
pub enum ProjectState {
    Trusted(ProjectFile),
    NotAllowed(ProjectFile),
    Changed(ProjectFile),
}

/// `request` with the `sso_session` of the allowed project file in effect in the current
/// directory (docs/ARCHITECTURE.md §7: after `--sso-session` and `--profile`, before
/// `AWS_PROFILE`); unchanged when a flag already chooses the session.
pub fn in_current_project(ctx: &Context, mut request: SessionRequest) -> SessionRequest {
    if request.sso_session.is_none()
        && request.profile.is_none()
        && request.project_session.is_none()
    {
        request.project_session = ctx.env.current_dir().and_then(|dir| project_session(ctx, dir));
    }
    request
}

/// The project file in effect in the current directory, with its trust; `None` when there is
/// none.
pub fn project_in_current_dir(ctx: &Context) -> Result<Option<ProjectState>> {
    let dir = ctx.env.current_dir().ok_or(ResolveError::NoCurrentDir)?;
    project_in_effect(ctx, dir)
}

/// The nearest project file from `dir` up, with its trust; `None` when there is none.
pub fn project_in_effect(ctx: &Context, dir: &Path) -> Result<Option<ProjectState>> {
    find_project_file(dir).map(|path| project_state(ctx, &path)).transpose()
}

/// The project file at `path` with its trust: refused when others can write it, an error when
/// it cannot be read.
pub fn project_state(ctx: &Context, path: &Path) -> Result<ProjectState> {
    trust::check_ownership(path)?;
    let file = load_project_file(path).map_err(ConfigError::from)?;
    Ok(match trust::trust_of(&ctx.env, &ctx.settings, &file)? {
        Trust::Allowed | Trust::TrustedPrefix(_) => ProjectState::Trusted(file),
        Trust::NotAllowed => ProjectState::NotAllowed(file),
        Trust::ChangedSinceAllowed => ProjectState::Changed(file),
    })
}

/// The `sso_session` that the project file in effect in `dir` chooses (docs/ARCHITECTURE.md §7), once it is
/// allowed. A file that cannot be read or is not allowed chooses nothing: the commands that
/// use its account say why, and the others go on as outside the project.
pub fn project_session(ctx: &Context, dir: &Path) -> Option<String> {
    match project_in_effect(ctx, dir) {
        Ok(Some(ProjectState::Trusted(file))) => file.sso_session,
        Ok(_) => None,
        Err(e) => {
            tracing::debug!("the project file does not choose the session: {e}");
            None
        }
    }
}

/// Resolves the account and role. `project` is the nearest project file, if any, with its trust.
pub fn resolve_role(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
    project: Option<&ProjectState>,
) -> Result<Resolution> {
    resolve_role_with(ctx, request, choice, project, Fetch::Allowed)
}

/// [`resolve_role`], told whether it may ask for a fetch.
pub fn resolve_role_with(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
    project: Option<&ProjectState>,
    fetch: Fetch,
) -> Result<Resolution> {
    let resolution = resolve_named(ctx, request, choice, project, fetch)?;
    let Resolution::Resolved(mut resolved) = resolution else { return Ok(resolution) };
    // The project file's role to assume, then the command line's, from what they name.
    if let (Some(ProjectState::Trusted(file)), RoleSource::ProjectFile(_)) =
        (project, &resolved.source)
        && let Some(arn) = &file.assume_role
    {
        let origin = file.path.display().to_string();
        let hop = Hop::new(
            origin.clone(),
            arn,
            file.session_name.clone(),
            file.external_id.clone(),
            None,
        )
        .ok_or_else(|| ChainError::NotAnArnIn { origin, value: arn.clone() })?;
        resolved.chain.push(hop);
    }
    if let Some(arn) = &choice.assume_role {
        let origin = "--assume-role".to_owned();
        let hop = Hop::new(origin.clone(), arn, None, None, None)
            .ok_or_else(|| ChainError::NotAnArnIn { origin, value: arn.clone() })?;
        resolved.chain.push(hop);
    }
    Ok(Resolution::Resolved(resolved))
}

/// The role the command line, the project file or the profile names.
fn resolve_named(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
    project: Option<&ProjectState>,
    fetch: Fetch,
) -> Result<Resolution> {
    let named = |session, account: &str, role: Option<&str>, source, region| {
        named(ctx, session, account, role, source, region, fetch)
    };
    if let Some(account) = &choice.account {
        let session = match session::resolve(ctx, request) {
            Ok(session) => session,
            // Several sessions and none chosen: the account named may be in one of them only.
            Err(e @ Error::Session(SessionError::Ambiguous { .. })) => {
                match session_holding(ctx, account) {
                    Some(session) => session,
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        return named(session, account, choice.role.as_deref(), RoleSource::Arguments, None);
    }
    match project {
        Some(ProjectState::Trusted(file)) => {
            let mut request = request.clone();
            request.project_session = file.sso_session.clone();
            let session = session::resolve(ctx, &request)?;
            let source = RoleSource::ProjectFile(file.path.clone());
            let resolution =
                named(session, &file.account, file.role.as_deref(), source, file.region.clone())?;
            // The allow was for the account the file meant then: another one needs a new allow.
            if let Resolution::Resolved(resolved) = &resolution
                && let Some(allowed) = trust::allowed_account_id(&ctx.env, file)
                && allowed != resolved.account_id
            {
                return Err(ResolveError::ProjectAccountChanged {
                    path: file.path.display().to_string(),
                    account: file.account.clone(),
                    allowed,
                    now: resolved.account_id.clone(),
                }
                .into());
            }
            // Allowed before the account list was cached: this first meaning is the one kept.
            if let Resolution::Resolved(resolved) = &resolution {
                trust::record_first_use(&ctx.env, file, &resolved.account_id);
            }
            return Ok(resolution);
        }
        Some(ProjectState::NotAllowed(file)) => {
            return Err(
                ResolveError::ProjectNotAllowed { path: file.path.display().to_string() }.into()
            );
        }
        Some(ProjectState::Changed(file)) => {
            return Err(
                ResolveError::ProjectChanged { path: file.path.display().to_string() }.into()
            );
        }
        None => {}
    }
    // AWS_PROFILE left in the shell from other work names nothing here unless it reaches IAM
    // Identity Center (as for the session, docs/ARCHITECTURE.md §7) or assumes a role (whose
    // chain then says what is wrong with it); `--profile` always counts.
    let profile_name = request.profile.clone().or_else(|| {
        selected_profile(&ctx.env).filter(|p| match ctx.config.profile(p) {
            None => true,
            Some(profile) => {
                profile.get("role_arn").is_some() || session::identity_center_root(ctx, p).is_some()
            }
        })
    });
    let Some(profile_name) = profile_name else {
        return Err(ResolveError::NothingNamed.into());
    };
    let Some(profile) = ctx.config.profile(&profile_name) else {
        // A profile that is not there at all is a typo, not a profile to complete.
        return Err(SessionError::no_such_profile(
            &profile_name,
            ctx.files.config.clone(),
            ctx.config.profile_names(),
        )
        .into());
    };
    let mut request = request.clone();
    // A chained profile: its root names the Identity Center role, and its session.
    if let Some(found) = chain::profile_chain(&ctx.config, &ctx.files.config, &profile_name)? {
        let root = ctx.config.profile(&found.root);
        let get =
            |key| root.and_then(|p| p.get(key)).filter(|v| !v.trim().is_empty()).map(str::to_owned);
        let (Some(account), Some(role)) = (get("sso_account_id"), get("sso_role_name")) else {
            let missing =
                if get("sso_account_id").is_none() { "sso_account_id" } else { "sso_role_name" };
            return Err(ChainError::RootIncomplete {
                profile: profile_name,
                root: found.root,
                missing,
                file: ctx.files.config.display().to_string(),
            }
            .into());
        };
        request.profile = Some(found.root.clone());
        let session = session::resolve(ctx, &request)?;
        let source = RoleSource::Profile(profile_name);
        let resolution = named(session, &account, Some(&role), source, found.region)?;
        return Ok(match resolution {
            Resolution::Resolved(resolved) => {
                Resolution::Resolved(ResolvedRole { chain: found.hops, ..resolved })
            }
            other => other,
        });
    }
    let profile = Some(profile);
    // An empty value names nothing: it must not reach GetRoleCredentials as a role.
    let get =
        |key| profile.and_then(|p| p.get(key)).filter(|v| !v.trim().is_empty()).map(str::to_owned);
    let (Some(account), Some(role)) = (get("sso_account_id"), get("sso_role_name")) else {
        let missing =
            if get("sso_account_id").is_none() { "sso_account_id" } else { "sso_role_name" };
        return Err(ResolveError::ProfileIncomplete { profile: profile_name, missing }.into());
    };
    request.profile = Some(profile_name.clone());
    let session = session::resolve(ctx, &request)?;
    named(session, &account, Some(&role), RoleSource::Profile(profile_name), get("region"))
}

/// The account and role the user means, and credentials for it that last at least `window`:
/// from the caches when they can answer (no runtime, no HTTP client), else from the portal.
/// Without an account named, the project file in effect names one (and its session, or says why
/// it cannot be used); with one, an allowed project file still chooses the session.
/// What a resolution starts from: without an account named, the project file in effect names
/// one (with its trust); with one, an allowed project file still chooses the session.
fn project_and_request(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
) -> Result<(Option<ProjectState>, SessionRequest)> {
    Ok(match choice.account {
        None => (project_in_current_dir(ctx)?, request.clone()),
        Some(_) => (None, in_current_project(ctx, request.clone())),
    })
}

/// The account and role `choice` (else the project file in effect, else the profile) means, when
/// the files can say without the network; `None` when the account cache cannot answer yet, or
/// resolving fails (the caller then climbs [`role_credentials`], which says why).
pub fn resolve_offline(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
) -> Option<ResolvedRole> {
    let (project, request) = project_and_request(ctx, request, choice).ok()?;
    match resolve_role(ctx, &request, choice, project.as_ref()) {
        Ok(Resolution::Resolved(resolved)) => Some(resolved),
        _ => None,
    }
}

pub fn role_credentials(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
    window: SignedDuration,
) -> Result<(ResolvedRole, RoleCredentials)> {
    let (project, request) = project_and_request(ctx, request, choice)?;
    let mut runtime = LazyRuntime::default();
    let resolved = resolve_listing(ctx, &request, choice, project.as_ref(), &mut runtime)?;
    if let Some(creds) = cached_credentials(ctx, &resolved, window) {
        return Ok((resolved, creds));
    }
    let creds = runtime.get()?.block_on(fetch_credentials(ctx, &resolved, window))?;
    Ok((resolved, creds))
}

/// [`resolve_role`], fetching what the account cache lacks when it must: the index, then the
/// roles of the account a name matched. Each need is fetched once; when a fetch cannot help
/// (no valid login, so the cache was all there was), the cache answers as it is.
fn resolve_listing(
    ctx: &Context,
    request: &SessionRequest,
    choice: &RoleChoice,
    project: Option<&ProjectState>,
    runtime: &mut LazyRuntime,
) -> Result<ResolvedRole> {
    let mut fetched: Vec<AccountsNeed> = Vec::new();
    let mut fetch = Fetch::Allowed;
    loop {
        match resolve_role_with(ctx, request, choice, project, fetch)? {
            Resolution::Resolved(resolved) => return Ok(resolved),
            Resolution::NeedsAccounts(need) if fetch == Fetch::CacheOnly => {
                return Err(ResolveError::account_list_unreadable(&need.target).into());
            }
            Resolution::NeedsAccounts(need) => {
                if fetched.contains(&need) {
                    fetch = Fetch::CacheOnly;
                    continue;
                }
                let accounts = fetch_accounts(ctx, &need, runtime)?;
                if accounts.source == AccountsSource::StaleCache {
                    fetch = Fetch::CacheOnly;
                }
                fetched.push(need);
            }
        }
    }
}

/// Fetches what `need` lacks, naming the account in a failure of the index.
fn fetch_accounts(
    ctx: &Context,
    need: &AccountsNeed,
    runtime: &mut LazyRuntime,
) -> Result<session::Accounts> {
    tracing::debug!("fetching for \"{}\": {:?}", need.account, need.request);
    let accounts = runtime.get()?.block_on(session::accounts(
        ctx,
        &need.target,
        need.request.clone(),
        &mut (),
    ));
    match accounts {
        Err(Error::AccountIndex { session, target, looking_for: None, error }) => {
            Err(Error::AccountIndex {
                session,
                target,
                looking_for: Some(need.account.clone()),
                error,
            })
        }
        other => other,
    }
}

/// A single-threaded runtime, built on first use: the paths the caches answer need none.
#[derive(Default)]
struct LazyRuntime(Option<tokio::runtime::Runtime>);

impl LazyRuntime {
    fn get(&mut self) -> Result<&tokio::runtime::Runtime> {
        let runtime = match self.0.take() {
            Some(runtime) => runtime,
            None => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::Runtime)?,
        };
        Ok(self.0.insert(runtime))
    }
}

/// An account id is 12 digits; anything else is a name or a prefix to look up.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn named(
    ctx: &Context,
    session: SessionTarget,
    account: &str,
    role: Option<&str>,
    source: RoleSource,
    region: Option<String>,
    fetch: Fetch,
) -> Result<Resolution> {
    // The fast path: an id and a role need no account list.
    if is_account_id(account)
        && let Some(role) = role
    {
        return Ok(Resolution::Resolved(ResolvedRole {
            session,
            account_id: account.to_owned(),
            account_name: None,
            role_name: role.to_owned(),
            region,
            source,
            chain: Vec::new(),
        }));
    }
    let may_fetch = fetch == Fetch::Allowed;
    let Some(cache) = usable_cache(ctx, &session) else {
        if may_fetch {
            return Ok(AccountsNeed::index(session, account, false));
        }
        return Err(ResolveError::account_list_unreadable(&session).into());
    };
    let now = jiff::Timestamp::now();
    // A project file names its account exactly, so a longer list cannot change its meaning;
    // the command line and profiles match any part of a name (docs/ARCHITECTURE.md §6).
    let exact = matches!(source, RoleSource::ProjectFile(_));
    let lookup = if exact {
        cache.find_account_exact(account, now)
    } else {
        cache.find_account(account, now)
    };
    let found = match lookup {
        Ok(found) => found,
        // The account may be newer than the index.
        Err(AccountLookupError::NotFound(_))
            if may_fetch && cache.index_age(now) >= INDEX_RECHECK =>
        {
            return Ok(AccountsNeed::index(session, account, true));
        }
        Err(e) => return Err(ResolveError::from(e).into()),
    };
    let label = found.label();
    // Roles are checked against a list fetched within the TTL; an older or missing one is
    // fetched for this one account (one request) before a role is checked or chosen.
    let roles_fresh = found
        .roles_fetched_at
        .is_some_and(|at| now.duration_since(at) < ctx.settings.account_cache_ttl());
    let role_known = role.is_some_and(|role| found.roles.iter().any(|r| r == role));
    if !roles_fresh && !role_known && may_fetch {
        return Ok(AccountsNeed::roles(session, account, &found.account_id));
    }
    let role_name = match role {
        Some(role) => match found.roles.iter().find(|r| r.as_str() == role) {
            Some(r) => r.clone(),
            None => {
                let lower = role.to_lowercase();
                let matches: Vec<&String> = found
                    .roles
                    .iter()
                    .filter(|r| !exact && r.to_lowercase().contains(&lower))
                    .collect();
                match matches.as_slice() {
                    [only] => (*only).clone(),
                    // Roles that could not be fetched now may be out of date: let the portal
                    // decide.
                    [] if !roles_fresh => role.to_owned(),
                    _ => {
                        return Err(ResolveError::NoSuchRole {
                            account: label,
                            role: role.to_owned(),
                            roles: names::bounded(&found.roles),
                        }
                        .into());
                    }
                }
            }
        },
        None => match found.roles.as_slice() {
            [only] => only.clone(),
            [] if found.roles_fetched_at.is_none() => {
                return Err(ResolveError::account_list_unreadable(&session).into());
            }
            [] => return Err(ResolveError::NoRoles { account: label }.into()),
            roles => {
                return Err(ResolveError::RoleNeeded {
                    account: label,
                    account_arg: account.to_owned(),
                    count: roles.len(),
                    roles: names::bounded(roles),
                }
                .into());
            }
        },
    };
    Ok(Resolution::Resolved(ResolvedRole {
        session,
        account_id: found.account_id.clone(),
        account_name: Some(found.account_name.clone()),
        role_name,
        region,
        source,
        chain: Vec::new(),
    }))
}

/// The session request of the environment alone, for the hook and `allow`, which take no
/// flags: `AWS_SSO_SESSION` chooses the session as it does for every command (§7).
pub fn env_request(env: &crate::env::Environment) -> SessionRequest {
    SessionRequest {
        sso_session: env.non_empty(crate::env::AWS_SSO_SESSION).map(str::to_owned),
        ..SessionRequest::default()
    }
}

/// The account id `file` means now, for its allow to record: its id, or the account its name
/// names exactly in the account cache of its session; `None` when that is not known yet.
pub fn account_id_to_pin(ctx: &Context, file: &ProjectFile) -> Option<String> {
    if is_account_id(&file.account) {
        return Some(file.account.clone());
    }
    let request =
        SessionRequest { project_session: file.sso_session.clone(), ..env_request(&ctx.env) };
    let session = session::resolve(ctx, &request).ok()?;
    let cache = usable_cache(ctx, &session)?;
    cache
        .find_account_exact(&file.account, jiff::Timestamp::now())
        .ok()
        .map(|a| a.account_id.clone())
}

/// The one session whose cached accounts hold `account` (as the command line matches it), when
/// exactly one does.
pub fn session_holding(ctx: &Context, account: &str) -> Option<SessionTarget> {
    let now = jiff::Timestamp::now();
    let mut holding = session::every_session(ctx).into_iter().filter(|target| {
        usable_cache(ctx, target).is_some_and(|c| c.find_account(account, now).is_ok())
    });
    let one = holding.next()?;
    if holding.next().is_some() {
        return None;
    }
    tracing::debug!("account {account} is in the cache of {} only", one.display_name());
    Some(one)
}

/// The account cache of `session`, when it belongs to it.
pub fn usable_cache(ctx: &Context, session: &SessionTarget) -> Option<AccountCache> {
    let path = account_cache_path(&ctx.env, session)?;
    match load_account_cache(&path) {
        Ok(Some(cache)) if cache.is_for(session) => Some(cache),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    }
}

/// The account name of `resolved`, from the account cache when the resolution did not read it.
pub fn account_name(ctx: &Context, resolved: &ResolvedRole) -> Option<String> {
    if let Some(name) = &resolved.account_name
        && resolved.chain.is_empty()
    {
        return Some(name.clone());
    }
    let cache = usable_cache(ctx, &resolved.session)?;
    cache
        .accounts
        .iter()
        .find(|a| a.account_id == resolved.final_account_id())
        .map(|a| a.account_name.clone())
}

#[cfg(test)]
mod chain_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_quote_what_a_shell_would_split() {
        let error = ResolveError::ProjectNotAllowed { path: "/p/my app/.aws-sso.yaml".to_owned() };
        assert!(
            error.to_string().ends_with("then run: aws-sso-env allow '/p/my app/.aws-sso.yaml'"),
            "{error}"
        );
        let error = ResolveError::ProjectChanged { path: "/p/app/.aws-sso.yaml".to_owned() };
        assert!(error.to_string().ends_with("then run: aws-sso-env allow /p/app/.aws-sso.yaml"));
        let error = ResolveError::RoleNeeded {
            account: "Prod Account (111111111111)".to_owned(),
            account_arg: "Prod Account".to_owned(),
            count: 2,
            roles: "A, B".to_owned(),
        };
        assert!(
            error.to_string().ends_with("name one: aws-sso-env 'Prod Account' ROLE"),
            "{error}"
        );
    }

    #[test]
    fn a_profile_with_an_empty_role_names_no_role() {
        use crate::session::testing::{Home, with_corp};
        let home = Home::new(&with_corp(
            "[profile p]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name =\n",
        ));
        let ctx = home.context();
        let request = SessionRequest { profile: Some("p".into()), ..Default::default() };
        let error = resolve_role(&ctx, &request, &RoleChoice::default(), None)
            .expect_err("no role")
            .to_string();
        assert!(error.contains("\"p\" has no sso_role_name"), "{error}");
    }
}
