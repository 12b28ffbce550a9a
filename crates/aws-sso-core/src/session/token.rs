//! The cached token of a session, and a valid one: refreshed when it has under
//! [`REFRESH_WINDOW`] left, under the session's lock.

use jiff::{SignedDuration, Timestamp};

use super::Context;
use crate::cache::CacheError;
use crate::cache::locks::session_lock_path;
use crate::cache::registration::CachedRegistration;
use crate::cache::token::{CachedToken, load_token, save_token};
use crate::error::Result;
use crate::http::HttpError;
use crate::lock::FileLock;
use crate::oidc::TokenGrant;
use crate::secret::Secret;
use crate::target::{SessionError, SessionTarget};

/// A token with less than this left is refreshed before use (botocore's advisory window).
pub const REFRESH_WINDOW: SignedDuration = SignedDuration::from_mins(15);

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

pub(super) fn token_from_grant(
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
pub(super) async fn refresh(
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

pub(super) fn expired_error(target: &SessionTarget, token: &CachedToken) -> crate::Error {
    SessionError::Expired {
        session: target.display_name(),
        expired_at: crate::time::format_cli(token.expires_at),
        selector: target.selector(),
        target: Box::new(target.clone()),
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
            let path = ctx.caches.token_path(target.token_identifier());
            if let Err(e) = save_token(&path, &fresh) {
                // The service may have retired the saved refresh token already: failing now would
                // throw away the one login left, so this command uses it (docs/ARCHITECTURE.md §3).
                tracing::warn!("{}", unsaved_warning(target, &token, &fresh, &e));
            }
            Ok(fresh)
        }
        Err(e) => {
            tracing::info!("token refresh failed: {e}");
            if token.remaining(now) > SignedDuration::ZERO {
                return Ok(token);
            }
            Err(refresh_failure(target, &token, e))
        }
    }
}

/// Says that a refreshed token could not be saved, what that costs and what to do.
fn unsaved_warning(
    target: &SessionTarget,
    saved: &CachedToken,
    fresh: &CachedToken,
    error: &CacheError,
) -> String {
    let cause = match error {
        CacheError::Io { action, path, source } => {
            format!("could not {action} {}: {}", path.display(), crate::fs::plain(source))
        }
        other => other.to_string(),
    };
    let rotated = match (&saved.refresh_token, &fresh.refresh_token) {
        (Some(old), Some(new)) => old.expose() != new.expose(),
        _ => false,
    };
    let session = target.display_name();
    let selector = target.selector();
    if rotated {
        format!(
            "The refreshed login of {session} could not be saved ({cause}). This command uses it, \
             but the service replaced the refresh token on disk, so the next command will need a \
             new login: free some disk space, then run: aws-sso-login {selector}"
        )
    } else {
        format!(
            "The refreshed login of {session} could not be saved ({cause}). This command uses it; \
             the next one will refresh again, until disk space is freed."
        )
    }
}

/// What a failed refresh of an expired token means: only a refusal by the service ends the
/// login; a failure that may pass says to try again, and a local problem speaks for itself.
fn refresh_failure(
    target: &SessionTarget,
    token: &CachedToken,
    cause: crate::Error,
) -> crate::Error {
    match cause {
        crate::Error::Http(http) if http.is_transient() => SessionError::RefreshFailed {
            session: target.display_name(),
            expired_at: crate::time::format_cli(token.expires_at),
            cause: http.to_string().trim_end_matches('.').to_owned(),
        }
        .into(),
        crate::Error::Http(HttpError::Service(_)) | crate::Error::Session(_) => {
            expired_error(target, token)
        }
        cause => cause,
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

pub(super) fn not_logged_in(target: &SessionTarget) -> crate::Error {
    SessionError::NotLoggedIn {
        session: target.display_name(),
        selector: target.selector(),
        target: Box::new(target.clone()),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use jiff::ToSpan as _;

    use super::*;
    use crate::exit::ErrorKind;
    use crate::http::test_server::{Canned, TestServer};
    use crate::session::testing::{CORP, Home};
    use crate::target::SessionRequest;

    fn token(expires_at: Timestamp) -> CachedToken {
        CachedToken {
            start_url: Some("https://corp.awsapps.com/start".into()),
            region: Some("eu-west-1".into()),
            access_token: Secret::new("access".to_owned()),
            expires_at,
            client_id: None,
            client_secret: None,
            registration_expires_at: None,
            refresh_token: None,
        }
    }

    fn corp(ctx: &Context) -> SessionTarget {
        let request = SessionRequest { sso_session: Some("corp".into()), ..Default::default() };
        crate::session::resolve(ctx, &request).expect("corp")
    }

    #[tokio::test]
    async fn a_valid_token_is_used_as_it_is_without_the_network() {
        let home = Home::new(CORP);
        let ctx = home.context();
        let target = corp(&ctx);
        let expires_at =
            Timestamp::from_second(Timestamp::now().as_second()).expect("now") + 1.hour();
        save_token(&ctx.caches.token_path("corp"), &token(expires_at)).expect("save");
        let valid = valid_token(&ctx, &target).await.expect("valid");
        assert_eq!(valid.expires_at, expires_at);
    }

    #[tokio::test]
    async fn no_token_or_one_that_cannot_be_refreshed_says_how_to_log_in() {
        let home = Home::new(CORP);
        let ctx = home.context();
        let target = corp(&ctx);
        let missing = valid_token(&ctx, &target).await.expect_err("not logged in");
        assert_eq!(missing.kind(), ErrorKind::NotLoggedIn);
        assert_eq!(
            missing.to_string(),
            "Not logged in to corp. Run: aws-sso-login --sso-session corp"
        );

        save_token(&ctx.caches.token_path("corp"), &token(Timestamp::now() - 1.minute()))
            .expect("save");
        let expired = valid_token(&ctx, &target).await.expect_err("expired");
        assert_eq!(expired.kind(), ErrorKind::NotLoggedIn);
        assert!(expired.to_string().contains("expired at"), "{expired}");
        assert!(
            expired.to_string().ends_with("Run: aws-sso-login --sso-session corp"),
            "{expired}"
        );
    }

    #[tokio::test]
    async fn a_token_near_its_end_without_a_refresh_token_is_used_while_it_lasts() {
        let home = Home::new(CORP);
        let ctx = home.context();
        let target = corp(&ctx);
        let expires_at =
            Timestamp::from_second(Timestamp::now().as_second()).expect("now") + 5.minutes();
        save_token(&ctx.caches.token_path("corp"), &token(expires_at)).expect("save");
        assert_eq!(valid_token(&ctx, &target).await.expect("usable").expires_at, expires_at);
    }

    /// An expired token that a refresh could renew, whose refresh answers with `answer`.
    async fn refresh_expired_against(answer: Canned) -> crate::Error {
        let server = TestServer::start(vec![answer]);
        let home =
            Home::new(CORP).with_var(crate::env::AWS_ENDPOINT_URL_SSO_OIDC, &server.base_url);
        let ctx = home.context();
        let target = corp(&ctx);
        let now = Timestamp::now();
        let expired = CachedToken {
            client_id: Some("CID".into()),
            client_secret: Some(Secret::new("CSECRET".to_owned())),
            registration_expires_at: Some(now + 720.hours()),
            refresh_token: Some(Secret::new("RTOKEN".to_owned())),
            ..token(now - 1.minute())
        };
        save_token(&ctx.caches.token_path("corp"), &expired).expect("save");
        let err = valid_token(&ctx, &target).await.expect_err("not refreshed");
        assert_eq!(server.requests().len(), 1, "one CreateToken");
        err
    }

    #[tokio::test]
    async fn a_refresh_that_failed_for_a_passing_reason_says_try_again_not_log_in() {
        let answers = [
            Canned::json(500, r#"{"error":"server_error","error_description":"oops"}"#),
            Canned::json(429, r#"{"message":"slow"}"#)
                .header("x-amzn-ErrorType", "TooManyRequestsException"),
            Canned::json(200, "<html>captive portal</html>"),
        ];
        for answer in answers {
            let err = refresh_expired_against(answer).await;
            let text = err.to_string();
            assert_eq!(err.kind(), ErrorKind::Failure, "{text}");
            assert!(text.contains("run the command again in a moment"), "{text}");
            assert!(!text.contains("cannot be refreshed"), "{text}");
            assert!(!text.contains("aws-sso-login"), "{text}");
            assert!(text.contains("CreateToken"), "the cause is shown: {text}");
        }
    }

    #[tokio::test]
    async fn a_refresh_the_service_refuses_asks_for_a_new_login() {
        let err = refresh_expired_against(Canned::json(
            400,
            r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
        ))
        .await;
        assert_eq!(err.kind(), ErrorKind::NotLoggedIn, "{err}");
        assert!(err.to_string().ends_with("Run: aws-sso-login --sso-session corp"), "{err}");
    }
}
