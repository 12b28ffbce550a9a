//! Which `[sso-session]` a command means, and a valid token for it: login, refresh, logout and
//! status, with the cross-process locks of docs/ARCHITECTURE.md §4 around each.
//!
//! Data flows one way: flags and environment → [`SessionTarget`] → token → (later) role
//! credentials. Nothing here prints; the login flows speak through [`LoginPrompt`].

use std::path::PathBuf;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::cache::accounts::{
    AccountCache, account_cache_path, load_account_cache, save_account_cache,
};
use crate::cache::registration::{
    CachedRegistration, GrantFlow, RegistrationKey, load_registration, save_registration,
};
use crate::cache::role_credentials::{RoleCredentialsKey, remove_sso_role_credentials};
use crate::cache::token::{CachedToken, load_token, remove_file_if_exists, save_token};
use crate::cache::{self, CacheDirs, CacheError};
use crate::config::settings::{LoginFlow, Settings};
use crate::config::{AwsConfig, ConfigFiles, SectionKind, selected_profile, update_config_file};
use crate::endpoint::{self, Service};
use crate::env::{self, Environment};
use crate::error::{ErrorKind, Result};
use crate::http::{HttpClient, HttpSettings};
use crate::lock::{FileLock, session_lock_path};
use crate::oidc::{self, LoginPrompt, OidcClient, PkceOptions, TokenGrant};
use crate::portal::PortalClient;
use crate::portal::listing::{
    FailedAccount, ListingOptions, ListingProgress, list_everything, merge_into_cache,
};
use crate::secret::Secret;
use crate::start_url;

/// A token with less than this left is refreshed before use (botocore's advisory window).
pub const REFRESH_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// The scope every registration asks for when the session configures none; it is what makes
/// the service issue refresh tokens.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// Everything a command reads once at start: environment, AWS config, our settings, cache
/// locations. The HTTP client inside is built only when a call is made.
pub struct Context {
    pub env: Environment,
    pub files: ConfigFiles,
    pub config: AwsConfig,
    pub settings: Settings,
    pub caches: CacheDirs,
    http: Arc<HttpClient>,
}

impl Context {
    /// Reads everything once. `profile` is `--profile` when given; else `AWS_PROFILE` is used
    /// for the profile-level settings read here (`ca_bundle`).
    pub fn load(env: Environment, profile: Option<&str>) -> Result<Self> {
        let files = ConfigFiles::locate(&env)?;
        let config = AwsConfig::load(&files)?;
        let settings = Settings::load(&env)?;
        let caches = CacheDirs::from_env(&env)?;
        let profile = profile.map(str::to_owned).or_else(|| selected_profile(&env));
        let ca_bundle = config
            .profile(profile.as_deref().unwrap_or("default"))
            .and_then(|p| p.get("ca_bundle"));
        let http = HttpSettings::from_env(&env).with_profile_ca_bundle(ca_bundle);
        Ok(Self { env, files, config, settings, caches, http: Arc::new(HttpClient::new(http)) })
    }

    fn oidc_client(&self, target: &SessionTarget) -> Result<OidcClient> {
        target.require_region()?;
        let url = endpoint::endpoint_for(
            Service::SsoOidc,
            &target.region,
            &self.env,
            &self.config,
            target.profile.as_deref(),
        )?;
        Ok(OidcClient::new(url, Arc::clone(&self.http)))
    }

    pub fn portal_client(&self, target: &SessionTarget) -> Result<PortalClient> {
        target.require_region()?;
        self.portal_client_for_region(&target.region, target.profile.as_deref())
    }

    fn portal_client_for_region(
        &self,
        region: &str,
        profile: Option<&str>,
    ) -> Result<PortalClient> {
        let url = endpoint::endpoint_for(Service::Sso, region, &self.env, &self.config, profile)?;
        Ok(PortalClient::new(url, Arc::clone(&self.http)))
    }
}

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
    fn require_region(&self) -> Result<(), SessionError> {
        if self.region.is_empty() {
            return Err(SessionError::RegionUnknown {
                session: self.display_name(),
                selector: self.selector(),
            });
        }
        Ok(())
    }

    /// The flags that select this target again, for hints in messages.
    pub fn selector(&self) -> String {
        match (&self.session_name, &self.profile) {
            (Some(name), _) => format!("--sso-session {name}"),
            (None, Some(profile)) => format!("--profile {profile}"),
            (None, None) => String::new(),
        }
    }

    fn registration_key(&self) -> RegistrationKey {
        RegistrationKey {
            start_url: self.start_url.clone(),
            region: self.region.clone(),
            scopes: self.scopes.clone(),
            session_name: self.session_name.clone(),
        }
    }

    /// The scopes a registration asks for: the configured ones, else `sso:account:access`.
    fn requested_scopes(&self) -> Vec<String> {
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

impl SessionRequest {
    /// Adds the `sso_session` of the allowed project file in effect in the current directory
    /// (docs/ARCHITECTURE.md §7: after `--sso-session` and `--profile`, before `AWS_PROFILE`); unchanged
    /// when a flag already chooses the session.
    pub fn in_current_project(mut self, ctx: &Context) -> Self {
        if self.sso_session.is_none() && self.profile.is_none() && self.project_session.is_none() {
            self.project_session = std::env::current_dir()
                .ok()
                .and_then(|dir| crate::resolve::project_session(ctx, &dir));
        }
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "No sso-session is configured in {config}.\nAdd one with: aws-sso-login configure --sso-session NAME --start-url URL --region REGION"
    )]
    NoneConfigured { config: PathBuf },
    #[error(
        "Several sso-sessions are configured in {config} ({names}); choose one with --sso-session NAME, AWS_SSO_SESSION or --profile NAME."
    )]
    Ambiguous { config: PathBuf, names: String },
    #[error("The profile \"{profile}\" does not exist in {config}. Profiles configured: {names}.")]
    NoSuchProfile { profile: String, config: PathBuf, names: String },
    #[error(
        "The profile \"{profile}\" in {config} does not use IAM Identity Center: it has neither sso_session nor sso_start_url and sso_region."
    )]
    NotSsoProfile { profile: String, config: PathBuf },
    #[error(
        "The profile \"{profile}\" in {config} is missing {missing}. Set sso_session = NAME, or both sso_start_url and sso_region."
    )]
    IncompleteProfile { profile: String, config: PathBuf, missing: String },
    #[error("Not logged in to {session}. Run: aws-sso-login {selector}")]
    NotLoggedIn { session: String, selector: String },
    #[error(
        "The region of {session} is not known yet: it has no sso_region, and its start URL names it only once followed. Run: aws-sso-login {selector}"
    )]
    RegionUnknown { session: String, selector: String },
    #[error(
        "The login of {session} expired at {expired_at} and cannot be refreshed. Run: aws-sso-login {selector}"
    )]
    Expired { session: String, expired_at: String, selector: String },
}

impl SessionError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::NotLoggedIn { .. }
            | SessionError::Expired { .. }
            | SessionError::RegionUnknown { .. } => ErrorKind::NotLoggedIn,
            _ => ErrorKind::Usage,
        }
    }
}

/// Finds the session a command means (docs/ARCHITECTURE.md §7): `--sso-session`, else `--profile`'s
/// `sso_session`, else the project file's `sso_session`, else `AWS_PROFILE`'s, else the only
/// `[sso-session]` of the config.
pub fn resolve(ctx: &Context, request: &SessionRequest) -> Result<SessionTarget> {
    let env_profile = selected_profile(&ctx.env);
    if let Some(name) = &request.sso_session {
        let profile = request.profile.clone().or(env_profile);
        return session_target(ctx, name, profile);
    }
    if let Some(profile) = &request.profile {
        return profile_target(ctx, profile);
    }
    if let Some(name) = &request.project_session {
        return session_target(ctx, name, env_profile);
    }
    if let Some(profile) = &env_profile
        && ctx.config.profile(profile).is_some()
    {
        return profile_target(ctx, profile);
    }
    let names = ctx.config.sso_session_names();
    match names.as_slice() {
        [] => Err(SessionError::NoneConfigured { config: ctx.files.config.clone() }.into()),
        [only] => session_target(ctx, only, env_profile),
        _ => Err(SessionError::Ambiguous {
            config: ctx.files.config.clone(),
            names: names.join(", "),
        }
        .into()),
    }
}

fn session_target(ctx: &Context, name: &str, profile: Option<String>) -> Result<SessionTarget> {
    let session = ctx.config.sso_session(name)?;
    Ok(SessionTarget {
        session_name: Some(session.name),
        profile,
        start_url: session.start_url,
        region: session.region,
        scopes: session.registration_scopes,
    })
}

fn profile_target(ctx: &Context, name: &str) -> Result<SessionTarget> {
    let config_path = ctx.files.config.clone();
    let Some(profile) = ctx.config.profile(name) else {
        let mut names: Vec<&str> = ctx.config.profile_names().collect();
        names.sort_unstable();
        let names = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
        return Err(SessionError::NoSuchProfile {
            profile: name.to_owned(),
            config: config_path,
            names,
        }
        .into());
    };
    if let Some(session) = profile.get("sso_session") {
        return session_target(ctx, session, Some(name.to_owned()));
    }
    let region = profile.get("sso_region").or_else(|| {
        // As for a session: a custom-domain start URL may leave the region to the login.
        profile.get("sso_start_url").filter(|url| start_url::may_name_the_region(url)).map(|_| "")
    });
    match (profile.get("sso_start_url"), region) {
        (Some(start_url), Some(region)) => Ok(SessionTarget {
            session_name: None,
            profile: Some(name.to_owned()),
            start_url: start_url.to_owned(),
            region: region.to_owned(),
            scopes: None,
        }),
        (None, None) => {
            Err(SessionError::NotSsoProfile { profile: name.to_owned(), config: config_path }
                .into())
        }
        (start_url, _) => Err(SessionError::IncompleteProfile {
            profile: name.to_owned(),
            config: config_path,
            missing: if start_url.is_none() { "sso_start_url" } else { "sso_region" }.to_owned(),
        }
        .into()),
    }
}

/// The cached token of a session, as found on disk.
#[derive(Debug)]
pub enum TokenState {
    Missing,
    /// The file exists but cannot be read; it is treated as absent.
    Unreadable(CacheError),
    Present(CachedToken),
}

pub fn read_token(ctx: &Context, target: &SessionTarget) -> TokenState {
    match load_token(&ctx.caches.token_path(target.token_identifier())) {
        Ok(None) => TokenState::Missing,
        Ok(Some(token)) => TokenState::Present(token),
        Err(e) => TokenState::Unreadable(e),
    }
}

/// How a login request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The cached token is valid for a while: nothing was done.
    AlreadyValid { expires_at: Timestamp },
    /// The token was renewed with the refresh token, without the browser.
    Refreshed { expires_at: Timestamp },
    /// A new login through the browser or the device code; `region_updated` is the region that
    /// the portal's address named, written to the config because it differed from `sso_region`.
    LoggedIn { expires_at: Timestamp, region_updated: Option<String> },
}

#[derive(Clone, Debug)]
pub struct LoginOptions {
    pub flow: LoginFlow,
    /// Log in again even when the cached token is valid.
    pub force: bool,
    /// How long the browser flow waits for the redirect.
    pub browser_timeout: std::time::Duration,
}

/// Which flow a login uses when the command line does not say: device code for legacy
/// profiles (as the AWS CLI does) and over SSH, else config.yaml's choice, else the browser.
pub fn default_login_flow(ctx: &Context, target: &SessionTarget) -> LoginFlow {
    if target.session_name.is_none() {
        return LoginFlow::DeviceCode;
    }
    let configured = target
        .session_name
        .as_deref()
        .and_then(|name| ctx.settings.login_flow_for(name))
        .or(ctx.settings.login_flow);
    if let Some(flow) = configured {
        return flow;
    }
    if ctx.env.non_empty(env::SSH_CONNECTION).is_some() || ctx.env.non_empty(env::SSH_TTY).is_some()
    {
        return LoginFlow::DeviceCode;
    }
    LoginFlow::Browser
}

/// Logs in to `target`, or refreshes, or does nothing when the cached token is good.
///
/// Holds the session's lock throughout, so a second login in another process waits and then
/// finds the token this one wrote: one browser tab, one URL.
pub async fn login(
    ctx: &Context,
    target: &SessionTarget,
    options: &LoginOptions,
    prompt: &mut dyn LoginPrompt,
) -> Result<LoginOutcome> {
    let _lock =
        FileLock::acquire_async(session_lock_path(&ctx.env, target.token_identifier())).await?;
    let token_path = ctx.caches.token_path(target.token_identifier());
    let cached = match read_token(ctx, target) {
        TokenState::Present(token) => Some(token),
        TokenState::Missing => None,
        TokenState::Unreadable(e) => {
            tracing::warn!("{e}");
            None
        }
    };
    if !options.force
        && let Some(token) = &cached
    {
        let now = Timestamp::now();
        if token.remaining(now) > REFRESH_WINDOW {
            return Ok(LoginOutcome::AlreadyValid { expires_at: token.expires_at });
        }
        if token.is_refreshable(now) {
            match refresh(ctx, target, token).await {
                Ok(fresh) => {
                    save_token(&token_path, &fresh)?;
                    tell_shell_hooks(ctx);
                    return Ok(LoginOutcome::Refreshed { expires_at: fresh.expires_at });
                }
                Err(e) => tracing::info!("refresh failed, logging in again: {e}"),
            }
        }
    }

    // A start URL on a custom domain leads to the portal the service knows, and maybe to the
    // region it is in: the login talks to that region with that URL, while the cache keys and
    // the token keep the URL as configured.
    let portal = start_url::resolve(&ctx.http, &target.start_url, &target.region).await?;
    let configured_region = target.region.clone();
    let target = &SessionTarget { region: portal.region.clone(), ..target.clone() };
    let client = ctx.oidc_client(target)?;
    let grant_flow = match options.flow {
        LoginFlow::Browser => GrantFlow::AuthorizationCode,
        LoginFlow::DeviceCode => GrantFlow::DeviceCode,
    };
    let (mut registration, mut cached_registration) =
        registration(ctx, target, &portal.url, &client, grant_flow, false).await?;
    let grant = loop {
        match run_flow(&client, target, &portal.url, &registration, options, prompt).await {
            // The service no longer knows the client we registered earlier (it was deleted, or
            // the service forgot it): register a new one and start over, once. The device flow
            // meets this before showing anything; the browser flow only after the approval.
            Err(oidc::LoginError::Http(e))
                if cached_registration && e.code() == Some("InvalidClientException") =>
            {
                tracing::warn!(
                    "The service rejected the cached client registration; registering again."
                );
                (registration, cached_registration) =
                    self::registration(ctx, target, &portal.url, &client, grant_flow, true).await?;
            }
            result => break result?,
        }
    };
    let token = token_from_grant(target, &registration, grant, None, Timestamp::now());
    save_token(&token_path, &token)?;
    tell_shell_hooks(ctx);
    let region_updated = if portal.region == configured_region {
        None
    } else {
        update_sso_region(ctx, target)?;
        Some(portal.region)
    };
    Ok(LoginOutcome::LoggedIn { expires_at: token.expires_at, region_updated })
}

/// Writes the region the portal's address named as the `sso_region` of the session (or of the
/// legacy profile), as the AWS CLI does, so that refreshes and the SDKs use it.
fn update_sso_region(ctx: &Context, target: &SessionTarget) -> Result<()> {
    let (kind, name) = match (&target.session_name, &target.profile) {
        (Some(session), _) => (SectionKind::SsoSession, session.as_str()),
        (None, Some(profile)) => (SectionKind::Profile, profile.as_str()),
        (None, None) => return Ok(()),
    };
    update_config_file(&ctx.files.config, kind, name, &[("sso_region", &target.region)])?;
    Ok(())
}

/// The grant of one run of the login flow `options` asks for.
async fn run_flow(
    client: &OidcClient,
    target: &SessionTarget,
    start_url: &str,
    registration: &CachedRegistration,
    options: &LoginOptions,
    prompt: &mut dyn LoginPrompt,
) -> std::result::Result<TokenGrant, oidc::LoginError> {
    let (id, secret) = (&registration.client_id, &registration.client_secret);
    match options.flow {
        LoginFlow::Browser => {
            let pkce =
                PkceOptions { scopes: target.requested_scopes(), timeout: options.browser_timeout };
            oidc::authorization_code_flow(client, id, secret, &pkce, prompt).await
        }
        LoginFlow::DeviceCode => {
            oidc::device_code_flow(client, id, secret, start_url, prompt).await
        }
    }
}

/// A registration usable for `flow`, and whether it came from the cache: the cached one when it
/// has 15 minutes left and the right grant type (the AWS CLI's rule) and `fresh` is false, else
/// a new one, cached for next time.
async fn registration(
    ctx: &Context,
    target: &SessionTarget,
    start_url: &str,
    client: &OidcClient,
    flow: GrantFlow,
    fresh: bool,
) -> Result<(CachedRegistration, bool)> {
    let key = target.registration_key();
    let path = ctx.caches.registration_path(&key);
    let now = Timestamp::now();
    match load_registration(&path) {
        Ok(Some(cached)) if !fresh && cached.usable_for(flow, now) => return Ok((cached, true)),
        Ok(_) => {}
        Err(e) => tracing::warn!("{e}"),
    }
    let client_name = match &target.session_name {
        Some(name) => format!("aws-sso-{name}"),
        None => format!("aws-sso-{}", now.as_second()),
    };
    let scopes = target.requested_scopes();
    let request = match flow {
        GrantFlow::AuthorizationCode => {
            oidc::pkce_registration_request(&client_name, start_url, &scopes)
        }
        GrantFlow::DeviceCode => oidc::device_registration_request(&client_name, Some(&scopes)),
    };
    let registered = client.register_client(&request).await?;
    let cached = CachedRegistration {
        client_id: registered.client_id,
        client_secret: registered.client_secret,
        expires_at: registered.client_secret_expires_at,
        scopes: Some(scopes),
        grant_types: match flow {
            GrantFlow::AuthorizationCode => {
                Some(vec!["authorization_code".to_owned(), "refresh_token".to_owned()])
            }
            GrantFlow::DeviceCode => None,
        },
    };
    save_registration(&path, &cached)?;
    Ok((cached, false))
}

fn token_from_grant(
    target: &SessionTarget,
    registration: &CachedRegistration,
    grant: TokenGrant,
    previous_refresh_token: Option<Secret>,
    now: Timestamp,
) -> CachedToken {
    let lifetime = SignedDuration::from_secs(i64::try_from(grant.expires_in).unwrap_or(i64::MAX));
    CachedToken {
        start_url: Some(target.start_url.clone()),
        region: Some(target.region.clone()),
        access_token: grant.access_token,
        expires_at: now.saturating_add(lifetime).unwrap_or(now),
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(registration.expires_at),
        // Unlike botocore, keep the old refresh token when the service does not rotate it
        // (docs/ARCHITECTURE.md §3): dropping it would force a browser login for no reason.
        refresh_token: grant.refresh_token.or(previous_refresh_token),
    }
}

/// Renews `token` with its refresh token. The caller holds the session lock.
async fn refresh(
    ctx: &Context,
    target: &SessionTarget,
    token: &CachedToken,
) -> Result<CachedToken> {
    let (Some(client_id), Some(client_secret), Some(refresh_token), Some(registration_expires_at)) = (
        token.client_id.clone(),
        token.client_secret.clone(),
        token.refresh_token.clone(),
        token.registration_expires_at,
    ) else {
        return Err(expired_error(target, token));
    };
    let client = ctx.oidc_client(target)?;
    let grant = client.create_token_refresh(&client_id, &client_secret, &refresh_token).await?;
    let registration = CachedRegistration {
        client_id,
        client_secret,
        expires_at: registration_expires_at,
        scopes: None,
        grant_types: None,
    };
    Ok(token_from_grant(target, &registration, grant, Some(refresh_token), Timestamp::now()))
}

fn expired_error(target: &SessionTarget, token: &CachedToken) -> crate::Error {
    SessionError::Expired {
        session: target.display_name(),
        expired_at: crate::time::format_cli(token.expires_at),
        selector: target.selector(),
    }
    .into()
}

/// A token valid for use now, refreshed first when it has under 15 minutes left (docs/ARCHITECTURE.md §3).
/// Never opens a browser: a session that needs a login is an error that says how.
pub async fn valid_token(ctx: &Context, target: &SessionTarget) -> Result<CachedToken> {
    let now = Timestamp::now();
    let token = match read_token(ctx, target) {
        TokenState::Present(token) => token,
        TokenState::Missing => return Err(not_logged_in(target)),
        TokenState::Unreadable(e) => {
            tracing::warn!("{e}");
            return Err(not_logged_in(target));
        }
    };
    if token.remaining(now) > REFRESH_WINDOW || !token.is_refreshable(now) {
        return usable_or_expired(target, token, now);
    }
    let _lock =
        FileLock::acquire_async(session_lock_path(&ctx.env, target.token_identifier())).await?;
    // Another process may have refreshed while we waited for the lock.
    let token = match read_token(ctx, target) {
        TokenState::Present(token) => token,
        _ => return Err(not_logged_in(target)),
    };
    let now = Timestamp::now();
    if token.remaining(now) > REFRESH_WINDOW {
        return Ok(token);
    }
    match refresh(ctx, target, &token).await {
        Ok(fresh) => {
            save_token(&ctx.caches.token_path(target.token_identifier()), &fresh)?;
            Ok(fresh)
        }
        Err(e) => {
            tracing::info!("token refresh failed: {e}");
            usable_or_expired(target, token, now)
        }
    }
}

fn usable_or_expired(
    target: &SessionTarget,
    token: CachedToken,
    now: Timestamp,
) -> Result<CachedToken> {
    if token.remaining(now) > SignedDuration::ZERO {
        Ok(token)
    } else {
        Err(expired_error(target, &token))
    }
}

fn not_logged_in(target: &SessionTarget) -> crate::Error {
    SessionError::NotLoggedIn { session: target.display_name(), selector: target.selector() }.into()
}

/// What a logout removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogoutOutcome {
    /// Token files deleted.
    pub tokens_removed: usize,
    /// Role-credential files deleted from `~/.aws/cli/cache`.
    pub role_credentials_removed: usize,
    /// Sessions whose server-side logout failed (the local files are gone all the same).
    pub server_logout_failed: Vec<String>,
}

/// Logs out of one session: `Logout` on the service, then its token file and its role
/// credentials in `~/.aws/cli/cache`. Registrations are kept, as the AWS CLI keeps them.
pub async fn logout(ctx: &Context, target: &SessionTarget) -> Result<LogoutOutcome> {
    let _lock =
        FileLock::acquire_async(session_lock_path(&ctx.env, target.token_identifier())).await?;
    let mut outcome = LogoutOutcome::default();
    let token_path = ctx.caches.token_path(target.token_identifier());
    if let TokenState::Present(token) = read_token(ctx, target)
        && token.remaining(Timestamp::now()) > SignedDuration::ZERO
    {
        let portal = ctx.portal_client(target)?;
        if let Err(e) = portal.logout(&token.access_token).await {
            tracing::info!("server-side logout of {} failed: {e}", target.display_name());
            outcome.server_logout_failed.push(target.display_name());
        }
    }
    if remove_file_if_exists(&token_path)? {
        outcome.tokens_removed += 1;
    }
    let keys = role_credential_keys(ctx, target);
    outcome.role_credentials_removed = remove_sso_role_credentials(&ctx.caches.cli, Some(&keys))?;
    if let Some(session) = &target.session_name {
        cache::role_credentials::forget_recorded_keys(&ctx.env, session)?;
    }
    tell_shell_hooks(ctx);
    Ok(outcome)
}

/// The role-credential cache entries that can belong to `target`: those of every profile that
/// uses it (the ones the AWS CLI writes) and those our tools recorded writing.
fn role_credential_keys(ctx: &Context, target: &SessionTarget) -> Vec<RoleCredentialsKey> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for name in ctx.config.profile_names() {
        let Some(profile) = ctx.config.profile(name) else { continue };
        let same = match &target.session_name {
            Some(session) => profile.get("sso_session") == Some(session.as_str()),
            None => {
                profile.get("sso_session").is_none()
                    && profile.get("sso_start_url") == Some(target.start_url.as_str())
            }
        };
        if let (true, Some(account), Some(role)) =
            (same, profile.get("sso_account_id"), profile.get("sso_role_name"))
        {
            pairs.push((account.to_owned(), role.to_owned()));
        }
    }
    if let Some(session) = &target.session_name {
        pairs.extend(cache::role_credentials::recorded_keys(&ctx.env, session));
    }
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(account_id, role_name)| match &target.session_name {
            Some(session_name) => RoleCredentialsKey::Session {
                session_name: session_name.clone(),
                account_id,
                role_name,
            },
            None => RoleCredentialsKey::StartUrl {
                start_url: target.start_url.clone(),
                account_id,
                role_name,
            },
        })
        .collect()
}

/// Logs out of everything, as `aws sso logout` does: every token file in `~/.aws/sso/cache`
/// (after `Logout` in its region) and every `ProviderType: sso` entry of `~/.aws/cli/cache`.
pub async fn logout_all(ctx: &Context) -> Result<LogoutOutcome> {
    let mut outcome = LogoutOutcome::default();
    for path in cache::token::sso_token_files(&ctx.caches.sso) {
        if let Ok(Some(token)) = load_token(&path)
            && let Some(region) = &token.region
            && token.remaining(Timestamp::now()) > SignedDuration::ZERO
        {
            let profile = selected_profile(&ctx.env);
            let portal = ctx.portal_client_for_region(region, profile.as_deref())?;
            if let Err(e) = portal.logout(&token.access_token).await {
                let name = token.start_url.clone().unwrap_or_else(|| path.display().to_string());
                tracing::info!("server-side logout of {name} failed: {e}");
                outcome.server_logout_failed.push(name);
            }
        }
        if remove_file_if_exists(&path)? {
            outcome.tokens_removed += 1;
        }
    }
    outcome.role_credentials_removed = remove_sso_role_credentials(&ctx.caches.cli, None)?;
    tell_shell_hooks(ctx);
    Ok(outcome)
}

/// Touches the marker the shell hooks watch (docs/ARCHITECTURE.md §6), so every open shell re-reads its
/// state at the next prompt after a login or a logout. A failure only delays that.
fn tell_shell_hooks(ctx: &Context) {
    if let Err(e) = crate::trust::touch_marker(&ctx.env) {
        tracing::debug!("could not touch the shell hook marker: {e}");
    }
}

/// One line of `aws-sso-login status`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// The `[sso-session]` name; `None` for a legacy profile.
    pub sso_session: Option<String>,
    /// The legacy profile, when `sso_session` is `None`.
    pub profile: Option<String>,
    pub start_url: String,
    /// `None` before the login that learns it (a custom-domain start URL without `sso_region`).
    pub region: Option<String>,
    /// `valid`, `expired`, `missing` or `unreadable`.
    pub state: &'static str,
    pub logged_in: bool,
    #[serde(serialize_with = "serialize_opt_ts")]
    pub expires_at: Option<Timestamp>,
    pub refreshable: bool,
    #[serde(serialize_with = "serialize_opt_ts")]
    pub registration_expires_at: Option<Timestamp>,
    pub token_file: PathBuf,
    /// Why the token file could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

fn serialize_opt_ts<S: serde::Serializer>(
    ts: &Option<Timestamp>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match ts {
        Some(ts) => serializer.serialize_str(&crate::time::format_cli(*ts)),
        None => serializer.serialize_none(),
    }
}

/// The login state of every configured session, then of every legacy profile (one entry per
/// start URL).
pub fn status(ctx: &Context, now: Timestamp) -> Vec<SessionStatus> {
    let mut targets: Vec<SessionTarget> = Vec::new();
    for name in ctx.config.sso_session_names() {
        match session_target(ctx, name, None) {
            Ok(target) => targets.push(target),
            Err(e) => tracing::warn!("{e}"),
        }
    }
    let mut profile_names: Vec<&str> = ctx.config.profile_names().collect();
    profile_names.sort_unstable();
    for name in profile_names {
        if let Ok(target) = profile_target(ctx, name)
            && target.session_name.is_none()
            && !targets.iter().any(|t| t.session_name.is_none() && t.start_url == target.start_url)
        {
            targets.push(target);
        }
    }
    targets.into_iter().map(|target| session_status(ctx, target, now)).collect()
}

fn session_status(ctx: &Context, target: SessionTarget, now: Timestamp) -> SessionStatus {
    let token_file = ctx.caches.token_path(target.token_identifier());
    let registration =
        load_registration(&ctx.caches.registration_path(&target.registration_key())).ok().flatten();
    let mut status = SessionStatus {
        sso_session: target.session_name.clone(),
        profile: if target.session_name.is_none() { target.profile.clone() } else { None },
        start_url: target.start_url.clone(),
        region: Some(target.region.clone()).filter(|r| !r.is_empty()),
        state: "missing",
        logged_in: false,
        expires_at: None,
        refreshable: false,
        registration_expires_at: registration.map(|r| r.expires_at),
        token_file,
        problem: None,
    };
    match read_token(ctx, &target) {
        TokenState::Missing => {}
        TokenState::Unreadable(e) => {
            status.state = "unreadable";
            status.problem = Some(e.to_string());
        }
        TokenState::Present(token) => {
            let valid = token.remaining(now) > SignedDuration::ZERO;
            status.state = if valid { "valid" } else { "expired" };
            status.refreshable = token.is_refreshable(now);
            status.logged_in = valid || status.refreshable;
            status.expires_at = Some(token.expires_at);
            if token.registration_expires_at.is_some() {
                status.registration_expires_at = token.registration_expires_at;
            }
        }
    }
    status
}

/// What `aws-sso-ls` (and name lookups) asked of the account cache.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccountsRequest {
    /// Refetch even when the cache is fresh.
    pub refresh: bool,
    /// Accounts only: one paged ListAccounts, no per-account calls.
    pub accounts_only: bool,
}

/// Where a listing came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountsSource {
    /// Fetched from the portal now (and cached).
    Fetched,
    /// The cache, fresh.
    Cache,
    /// The cache, past its TTL, because no valid token was at hand to refresh it.
    StaleCache,
}

/// The accounts of a session, and what the user should know about them.
#[derive(Debug)]
pub struct Accounts {
    pub cache: AccountCache,
    pub source: AccountsSource,
    /// Accounts whose roles could not be fetched now; their previous roles, if any, are kept.
    pub failed: Vec<FailedAccount>,
    /// Portal requests made, and 429s met, by a fetch.
    pub requests: usize,
    pub throttled: usize,
    /// Why the login cannot be used now, when the listing came from the cache for that reason
    /// (or a fresh cache was used while the login has expired).
    pub login_problem: Option<String>,
}

/// The accounts and roles of `target`: from the account cache while it is fresh (docs/ARCHITECTURE.md §3,
/// TTL from config.yaml), else fetched from the portal and cached. With no valid login, a cache
/// of any age is still listed (and the caller says why); with neither, the error says how to
/// log in.
pub async fn accounts(
    ctx: &Context,
    target: &SessionTarget,
    request: AccountsRequest,
    progress: &mut dyn ListingProgress,
) -> Result<Accounts> {
    let now = Timestamp::now();
    let path = account_cache_path(&ctx.env, target);
    let mut cached = match path.as_deref().map(load_account_cache) {
        Some(Ok(cache)) => cache,
        Some(Err(e)) => {
            tracing::warn!("{e}");
            None
        }
        None => None,
    };
    let complete = |c: &AccountCache| {
        request.accounts_only || c.accounts.iter().all(|a| a.roles_fetched_at.is_some())
    };
    // A cache of another start URL (the session was edited) tells nothing about this one.
    let fresh = cached.as_ref().is_some_and(|c| {
        c.is_for(target) && c.is_fresh(ctx.settings.account_cache_ttl(), now) && complete(c)
    });
    if fresh
        && !request.refresh
        && let Some(cache) = cached.take()
    {
        let login_problem = match read_token(ctx, target) {
            TokenState::Present(t) if t.remaining(now) > SignedDuration::ZERO => None,
            TokenState::Present(t) if t.is_refreshable(now) => None,
            TokenState::Present(t) => Some(expired_error(target, &t).to_string()),
            _ => Some(not_logged_in(target).to_string()),
        };
        return Ok(Accounts {
            cache,
            source: AccountsSource::Cache,
            failed: Vec::new(),
            requests: 0,
            throttled: 0,
            login_problem,
        });
    }
    let token = match valid_token(ctx, target).await {
        Ok(token) => token,
        Err(e) if !request.refresh && e.kind() == ErrorKind::NotLoggedIn => match cached {
            Some(cache) if cache.is_for(target) => {
                return Ok(Accounts {
                    cache,
                    source: AccountsSource::StaleCache,
                    failed: Vec::new(),
                    requests: 0,
                    throttled: 0,
                    login_problem: Some(e.to_string()),
                });
            }
            _ => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let portal = ctx.portal_client(target)?;
    let options = ListingOptions {
        accounts_only: request.accounts_only,
        ..ListingOptions::from_settings(&ctx.settings)
    };
    let listing = list_everything(&portal, &token.access_token, &options, progress).await?;
    let cache = merge_into_cache(cached.as_ref(), &listing, target, Timestamp::now());
    if let Some(path) = &path {
        save_account_cache(path, &cache)?;
    }
    Ok(Accounts {
        cache,
        source: AccountsSource::Fetched,
        failed: listing.failed,
        requests: listing.requests,
        throttled: listing.throttled,
        login_problem: None,
    })
}

impl Context {
    /// The same context with other HTTP settings: the shell hook bounds its one call tighter
    /// than a command the user waits for.
    pub fn with_http_settings(mut self, change: impl FnOnce(HttpSettings) -> HttpSettings) -> Self {
        self.http = Arc::new(HttpClient::new(change(self.http.settings().clone())));
        self
    }
}
