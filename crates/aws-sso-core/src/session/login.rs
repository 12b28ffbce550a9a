//! `aws-sso-login`: a new token through the browser or the device code, or a refreshed one.

use jiff::Timestamp;

use super::token::{REFRESH_WINDOW, TokenState, read_token, refresh, token_from_grant};
use super::{Context, registration_key};
use crate::cache::locks::session_lock_path;
use crate::cache::registration::{
    CachedRegistration, GrantFlow, load_registration, save_registration,
};
use crate::cache::token::save_token;
use crate::config::settings::LoginFlow;
use crate::config::{SectionKind, update_config_file};
use crate::env;
use crate::error::Result;
use crate::lock::FileLock;
use crate::oidc::{self, LoginPrompt, OidcClient, PkceOptions, TokenGrant};
use crate::start_url;
use crate::target::SessionTarget;

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
    update_config_file(&ctx.env, &ctx.files.config, kind, name, &[("sso_region", &target.region)])?;
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
    let key = registration_key(target);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::testing::{Home, with_corp};
    use crate::target::SessionRequest;

    /// What follows the `corp` session in this module's config.
    const CONFIG_REST: &str = "\
[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = eu-central-1
";

    fn flow(home: &Home, request: SessionRequest) -> LoginFlow {
        let ctx = home.context();
        let target = crate::session::resolve(&ctx, &request).expect("target");
        default_login_flow(&ctx, &target)
    }

    fn corp() -> SessionRequest {
        SessionRequest { sso_session: Some("corp".into()), ..Default::default() }
    }

    #[test]
    fn the_browser_unless_ssh_or_a_legacy_profile() {
        assert_eq!(flow(&Home::new(&with_corp(CONFIG_REST)), corp()), LoginFlow::Browser);
        let ssh = Home::new(&with_corp(CONFIG_REST))
            .with_var(env::SSH_CONNECTION, "10.0.0.1 50000 10.0.0.2 22");
        assert_eq!(flow(&ssh, corp()), LoginFlow::DeviceCode);
        let legacy = SessionRequest { profile: Some("legacy".into()), ..Default::default() };
        assert_eq!(flow(&Home::new(&with_corp(CONFIG_REST)), legacy), LoginFlow::DeviceCode);
    }

    #[test]
    fn config_yaml_chooses_per_session_over_the_global_choice_and_ssh() {
        let global = Home::new(&with_corp(CONFIG_REST)).settings("login_flow: device-code\n");
        assert_eq!(flow(&global, corp()), LoginFlow::DeviceCode);
        let per_session = Home::new(&with_corp(CONFIG_REST))
            .settings("login_flow: device-code\nsessions:\n  corp:\n    login_flow: browser\n")
            .with_var(env::SSH_TTY, "/dev/pts/0");
        assert_eq!(flow(&per_session, corp()), LoginFlow::Browser);
    }
}
