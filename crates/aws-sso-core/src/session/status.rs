//! `aws-sso-login status`: the login state of every configured session.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};

use super::choose::{profile_target, session_target};
use super::token::{TokenState, read_token};
use super::{Context, registration_key};
use crate::cache::registration::load_registration;
use crate::target::SessionTarget;

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
    configured_targets(ctx).into_iter().map(|target| session_status(ctx, target, now)).collect()
}

/// Every login the config holds: each `[sso-session]` in the file's order, then each legacy
/// profile's start URL once (profiles by name). A session that cannot be used is warned about
/// and left out.
pub fn configured_targets(ctx: &Context) -> Vec<SessionTarget> {
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
    targets
}

/// The login state of one session.
pub fn session_status(ctx: &Context, target: SessionTarget, now: Timestamp) -> SessionStatus {
    let token_file = ctx.caches.token_path(target.token_identifier());
    let registration =
        load_registration(&ctx.caches.registration_path(&registration_key(&target))).ok().flatten();
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

#[cfg(test)]
mod tests {
    use jiff::ToSpan as _;

    use super::*;
    use crate::cache::token::{CachedToken, save_token};
    use crate::secret::Secret;
    use crate::session::testing::{Home, with_corp};

    /// What follows the `corp` session in this module's config.
    const CONFIG_REST: &str = "\
[profile old-a]
sso_start_url = https://old.awsapps.com/start
sso_region = eu-central-1

[profile old-b]
sso_start_url = https://old.awsapps.com/start
sso_region = eu-central-1
";

    #[test]
    fn sessions_then_one_line_per_legacy_start_url_with_their_token_state() {
        let home = Home::new(&with_corp(CONFIG_REST));
        let ctx = home.context();
        // Whole seconds: the token file keeps no more.
        let now = Timestamp::from_second(Timestamp::now().as_second()).expect("now");
        let token = CachedToken {
            start_url: Some("https://corp.awsapps.com/start".into()),
            region: Some("eu-west-1".into()),
            access_token: Secret::new("t".to_owned()),
            expires_at: now + 1.hour(),
            client_id: None,
            client_secret: None,
            registration_expires_at: None,
            refresh_token: None,
        };
        save_token(&ctx.caches.token_path("corp"), &token).expect("token");
        let lines = status(&ctx, now);
        let summary: Vec<_> = lines
            .iter()
            .map(|s| (s.sso_session.as_deref(), s.profile.as_deref(), s.state, s.logged_in))
            .collect();
        assert_eq!(
            summary,
            vec![(Some("corp"), None, "valid", true), (None, Some("old-a"), "missing", false)]
        );
        assert_eq!(lines[0].expires_at, Some(token.expires_at));
        let later = status(&ctx, now + 2.hours());
        assert_eq!((later[0].state, later[0].logged_in), ("expired", false));
    }
}
