//! The container credentials endpoint that `aws-sso-env exec --server` serves: the
//! variables that point an SDK at it, the JSON the SDKs read from it, the check of its
//! authorization token, and when the credentials it hands out must be fetched again.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};

use crate::cache::role_credentials::RoleCredentials;
use crate::credentials::REUSE_WINDOW;
use crate::secret::Secret;
use crate::time::format_cli;

/// The endpoint's URL; the SDKs accept plain HTTP to a loopback address.
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The ECS form of the URL (a path on 169.254.170.2): it would win over ours in some SDKs.
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// The value the SDKs send as the `Authorization` header.
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// A file holding the token: botocore reads it in preference to the variable.
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// The path the endpoint serves credentials on.
pub const CREDENTIALS_PATH: &str = "/credentials";

/// The JSON body of a credentials answer, as the SDKs' container providers parse it
/// (botocore `ContainerProvider`, the Rust SDK's `ecs` provider): `Expiration` in RFC 3339 UTC.
pub fn credentials_json(creds: &RoleCredentials) -> String {
    serde_json::json!({
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.expose(),
        "Token": creds.session_token.expose(),
        "Expiration": format_cli(creds.expiration),
        "AccountId": creds.account_id,
    })
    .to_string()
}

/// The JSON body of an error answer; the SDKs show `message` to their user.
pub fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}

/// A new authorization token: 32 random bytes, unpadded base64url (43 characters).
pub fn new_authorization_token() -> Result<Secret, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
}

/// Whether the `Authorization` header a request carried is exactly the token. The comparison
/// takes the same time wherever the first difference is, so the answer times tell nothing.
pub fn token_matches(presented: Option<&str>, token: &Secret) -> bool {
    let Some(presented) = presented else { return false };
    let (a, b) = (presented.as_bytes(), token.expose().as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Credentials the endpoint hands out, with how long they lasted when they were had: that
/// decides how early they are replaced.
#[derive(Clone, Debug)]
pub struct Served {
    pub credentials: RoleCredentials,
    pub lifetime: SignedDuration,
}

impl Served {
    /// Credentials just had (fetched or read from the cache) at `now`.
    pub fn new(credentials: RoleCredentials, now: Timestamp) -> Served {
        let lifetime = credentials.remaining(now);
        Served { credentials, lifetime }
    }

    /// How much must be left for them to be handed out again without a fetch.
    pub fn refresh_window(&self) -> SignedDuration {
        refresh_window(self.lifetime)
    }

    /// Whether they must be replaced before they are handed out at `now`.
    pub fn needs_refresh(&self, now: Timestamp) -> bool {
        self.credentials.remaining(now) <= self.refresh_window()
    }

    /// Whether they still work at `now`: what is served when no fresh ones can be had.
    pub fn still_valid(&self, now: Timestamp) -> bool {
        self.credentials.remaining(now) > SignedDuration::ZERO
    }
}

/// Credentials are replaced when [`REUSE_WINDOW`] is left, or half their lifetime when they
/// last less than twice that (short lifetimes: an SDK must never be handed expired ones).
pub fn refresh_window(lifetime: SignedDuration) -> SignedDuration {
    let half = lifetime / 2;
    if half < REUSE_WINDOW { half.max(SignedDuration::ZERO) } else { REUSE_WINDOW }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(expiration: &str) -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAKEY".into(),
            secret_access_key: Secret::new("the/secret"),
            session_token: Secret::new("the-session"),
            expiration: expiration.parse().expect("time"),
            account_id: "123456789012".into(),
        }
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("time")
    }

    #[test]
    fn the_json_has_the_fields_and_the_expiration_format_sdks_read() {
        let body: serde_json::Value =
            serde_json::from_str(&credentials_json(&creds("2030-01-02T03:04:05.678Z")))
                .expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "AccessKeyId": "ASIAKEY",
                "SecretAccessKey": "the/secret",
                "Token": "the-session",
                "Expiration": "2030-01-02T03:04:05Z",
                "AccountId": "123456789012",
            })
        );
    }

    #[test]
    fn only_the_exact_token_is_accepted() {
        let token = Secret::new("abc123");
        assert!(token_matches(Some("abc123"), &token));
        assert!(!token_matches(Some("abc124"), &token));
        assert!(!token_matches(Some("abc1234"), &token));
        assert!(!token_matches(Some("Bearer abc123"), &token));
        assert!(!token_matches(Some(""), &token));
        assert!(!token_matches(None, &token));
    }

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = new_authorization_token().expect("random");
        let b = new_authorization_token().expect("random");
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn hour_long_credentials_are_replaced_five_minutes_before_they_expire() {
        let served = Served::new(creds("2030-01-01T01:00:00Z"), ts("2030-01-01T00:00:00Z"));
        assert_eq!(served.refresh_window(), REUSE_WINDOW);
        assert!(!served.needs_refresh(ts("2030-01-01T00:54:59Z")));
        assert!(served.needs_refresh(ts("2030-01-01T00:55:00Z")));
    }

    #[test]
    fn short_credentials_are_replaced_at_half_their_lifetime() {
        let served = Served::new(creds("2030-01-01T00:00:04Z"), ts("2030-01-01T00:00:00Z"));
        assert_eq!(served.refresh_window(), SignedDuration::from_secs(2));
        assert!(!served.needs_refresh(ts("2030-01-01T00:00:01Z")));
        assert!(served.needs_refresh(ts("2030-01-01T00:00:02Z")));
        assert!(served.still_valid(ts("2030-01-01T00:00:03Z")));
        assert!(!served.still_valid(ts("2030-01-01T00:00:04Z")));
    }

    #[test]
    fn expired_credentials_always_need_a_refresh() {
        let served = Served::new(creds("2030-01-01T00:00:00Z"), ts("2030-01-01T00:00:10Z"));
        assert_eq!(served.refresh_window(), SignedDuration::ZERO);
        assert!(served.needs_refresh(ts("2030-01-01T00:00:10Z")));
    }
}
