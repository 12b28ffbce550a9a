//! Which session a command means.

use super::Context;
use crate::config::selected_profile;
use crate::error::Result;
use crate::start_url;
use crate::target::{SessionError, SessionRequest, SessionTarget};

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

pub(super) fn session_target(
    ctx: &Context,
    name: &str,
    profile: Option<String>,
) -> Result<SessionTarget> {
    let session = ctx.config.sso_session(name)?;
    Ok(SessionTarget {
        session_name: Some(session.name),
        profile,
        start_url: session.start_url,
        region: session.region,
        scopes: session.registration_scopes,
    })
}

pub(super) fn profile_target(ctx: &Context, name: &str) -> Result<SessionTarget> {
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
