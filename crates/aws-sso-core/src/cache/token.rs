//! The SSO access-token file of the AWS CLI v2: `~/.aws/sso/cache/<sha1(identifier)>.json`.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};

pub use super::fs::remove_file_if_exists;
use super::{CacheError, CacheFile, LenientObject, fs};
use crate::py_json::{PyValue, Separators, dumps};
use crate::secret::Secret;
use crate::time::{format_cli, parse_lenient};

/// A cached SSO access token, with what is needed to refresh it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedToken {
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub access_token: Secret,
    pub expires_at: Timestamp,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub registration_expires_at: Option<Timestamp>,
    pub refresh_token: Option<Secret>,
}

impl CachedToken {
    /// The bytes `aws sso login` writes: keys in the CLI's order, absent ones left out, Python's
    /// `json.dumps` spacing and escaping, one line, no trailing newline.
    pub fn to_cli_json(&self) -> String {
        let expires_at = format_cli(self.expires_at);
        let registration_expires_at = self.registration_expires_at.map(format_cli);
        let mut fields = Vec::with_capacity(8);
        if let Some(url) = &self.start_url {
            fields.push(("startUrl", PyValue::Str(url)));
        }
        if let Some(region) = &self.region {
            fields.push(("region", PyValue::Str(region)));
        }
        fields.push(("accessToken", PyValue::Str(self.access_token.expose())));
        fields.push(("expiresAt", PyValue::Str(&expires_at)));
        if let Some(id) = &self.client_id {
            fields.push(("clientId", PyValue::Str(id)));
        }
        if let Some(secret) = &self.client_secret {
            fields.push(("clientSecret", PyValue::Str(secret.expose())));
        }
        if let Some(at) = &registration_expires_at {
            fields.push(("registrationExpiresAt", PyValue::Str(at)));
        }
        if let Some(token) = &self.refresh_token {
            fields.push(("refreshToken", PyValue::Str(token.expose())));
        }
        dumps(&PyValue::Object(fields), Separators::Default)
    }

    /// Reads a token file written by any AWS tool. `accessToken` and `expiresAt` are required;
    /// keys match case-insensitively, unknown keys are ignored, and an unreadable optional
    /// timestamp counts as absent. The error never quotes the content.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let object = LenientObject::parse(bytes)?;
        let text = |key: &str| object.str(key).map(str::to_owned);
        Ok(Self {
            access_token: Secret::new(object.required_str("accessToken")?),
            expires_at: object.required_time("expiresAt")?,
            start_url: text("startUrl"),
            region: text("region"),
            client_id: text("clientId"),
            client_secret: text("clientSecret").map(Secret::new),
            registration_expires_at: object.str("registrationExpiresAt").and_then(parse_lenient),
            refresh_token: text("refreshToken").map(Secret::new),
        })
    }

    /// Whether a `refresh_token` grant can be tried: as botocore and smithy-rs require, the
    /// refresh token and the registration are present and the registration has not expired.
    pub fn is_refreshable(&self, now: Timestamp) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|at| at > now)
    }

    /// Time left until the token expires; negative once it has.
    pub fn remaining(&self, now: Timestamp) -> SignedDuration {
        self.expires_at.duration_since(now)
    }

    /// When the session ends without a new login: while the token can be refreshed, when its
    /// registration expires (or the token, if later); else when the token expires.
    pub fn session_ends_at(&self, now: Timestamp) -> Timestamp {
        match self.registration_expires_at {
            Some(registration) if self.is_refreshable(now) => registration.max(self.expires_at),
            _ => self.expires_at,
        }
    }
}

/// The token at `path`; `None` when there is no file. A file that is not a token is
/// `Err(Corrupt)`: report it and treat it as absent.
pub fn load_token(path: &Path) -> Result<Option<CachedToken>, CacheError> {
    let Some(bytes) = fs::read_if_exists(path)? else {
        return Ok(None);
    };
    CachedToken::from_json(&bytes)
        .map(Some)
        .map_err(|reason| CacheError::corrupt(path, CacheFile::Token, reason))
}

/// Writes the token atomically, 0600, in the CLI's format.
pub fn save_token(path: &Path, token: &CachedToken) -> Result<(), CacheError> {
    fs::write_private(path, token.to_cli_json().as_bytes())
}

/// The token files in `dir` (`~/.aws/sso/cache`): JSON objects with an `accessToken` key, the
/// test `aws sso logout` uses. Client registrations and unreadable files are left out; a missing
/// directory gives an empty list. Sorted by path.
pub fn sso_token_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .filter(|path| {
            std::fs::read(path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .is_some_and(|json| json.get("accessToken").is_some())
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn full_token() -> CachedToken {
        CachedToken {
            start_url: Some("https://d-1234567890.awsapps.com/start".to_owned()),
            region: Some("us-east-1".to_owned()),
            access_token: Secret::new("AT"),
            expires_at: ts("2024-05-01T20:00:00Z"),
            client_id: Some("CLIENTID".to_owned()),
            client_secret: Some(Secret::new("SECRET")),
            registration_expires_at: Some(ts("2024-08-01T12:00:00Z")),
            refresh_token: Some(Secret::new("RT")),
        }
    }

    #[test]
    fn writes_the_cli_bytes() {
        // docs/aws-contracts.md §3.3, the example of a CLI v2 login.
        assert_eq!(
            full_token().to_cli_json(),
            r#"{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "us-east-1", "accessToken": "AT", "expiresAt": "2024-05-01T20:00:00Z", "clientId": "CLIENTID", "clientSecret": "SECRET", "registrationExpiresAt": "2024-08-01T12:00:00Z", "refreshToken": "RT"}"#
        );
    }

    #[test]
    fn leaves_out_absent_fields_and_truncates_fractions() {
        let token = CachedToken {
            refresh_token: None,
            expires_at: ts("2024-05-01T20:00:00.999Z"),
            ..full_token()
        };
        let json = token.to_cli_json();
        assert!(json.ends_with(r#""registrationExpiresAt": "2024-08-01T12:00:00Z"}"#), "{json}");
        assert!(json.contains(r#""expiresAt": "2024-05-01T20:00:00Z""#), "{json}");
        let minimal = CachedToken {
            start_url: None,
            region: None,
            access_token: Secret::new("AT"),
            expires_at: ts("2024-05-01T20:00:00Z"),
            client_id: None,
            client_secret: None,
            registration_expires_at: None,
            refresh_token: None,
        };
        assert_eq!(
            minimal.to_cli_json(),
            r#"{"accessToken": "AT", "expiresAt": "2024-05-01T20:00:00Z"}"#
        );
    }

    #[test]
    fn escapes_a_non_ascii_start_url_like_python() {
        let token = CachedToken {
            start_url: Some("https://café.example/start".to_owned()),
            ..full_token()
        };
        assert!(
            token.to_cli_json().starts_with(r#"{"startUrl": "https://caf\u00e9.example/start", "#)
        );
    }

    #[test]
    fn round_trips() {
        let token = full_token();
        assert_eq!(CachedToken::from_json(token.to_cli_json().as_bytes()), Ok(token));
    }

    #[test]
    fn reads_the_smithy_rs_test_vector() {
        let json = br#"{"accessToken":"access-token","expiresAt":"1971-08-02T16:53:20Z","refreshToken":"refresh-token","clientId":"client-id","clientSecret":"client-secret","registrationExpiresAt":"1973-03-03T09:46:40Z","region":"region","startUrl":"start-url"}"#;
        let token = CachedToken::from_json(json).expect("valid");
        assert_eq!(token.access_token.expose(), "access-token");
        assert_eq!(token.expires_at, ts("1971-08-02T16:53:20Z"));
        assert_eq!(token.refresh_token.as_ref().map(Secret::expose), Some("refresh-token"));
        assert_eq!(token.client_id.as_deref(), Some("client-id"));
        assert_eq!(token.client_secret.as_ref().map(Secret::expose), Some("client-secret"));
        assert_eq!(token.registration_expires_at, Some(ts("1973-03-03T09:46:40Z")));
        assert_eq!(token.region.as_deref(), Some("region"));
        assert_eq!(token.start_url.as_deref(), Some("start-url"));
    }

    #[test]
    fn reads_a_smithy_rs_fixture_file() {
        let bytes = include_bytes!("testdata/34c6fceca75e456f25e7e99531e2425c6c1de443.json");
        let token = CachedToken::from_json(bytes).expect("valid");
        assert_eq!(token.access_token.expose(), "secret-access-token");
        assert_eq!(token.expires_at, ts("2199-11-14T04:05:45Z"));
        assert_eq!(token.start_url.as_deref(), Some("https://d-abc123.awsapps.com/start"));
        assert!(token.is_refreshable(ts("2024-01-01T00:00:00Z")));
    }

    #[test]
    fn reads_leniently() {
        let json = br#"{
            "AccessToken": "tok",
            "EXPIRESAT": "2021-12-25T22:30:00.123+01:00",
            "registrationExpiresAt": "2022-01-01T00:00:00UTC",
            "clientid": "id",
            "somethingElse": {"nested": [1, 2]},
            "region": 7
        }"#;
        let token = CachedToken::from_json(json).expect("valid");
        assert_eq!(token.access_token.expose(), "tok");
        assert_eq!(token.expires_at, ts("2021-12-25T21:30:00.123Z"));
        assert_eq!(token.registration_expires_at, Some(ts("2022-01-01T00:00:00Z")));
        assert_eq!(token.client_id.as_deref(), Some("id"));
        assert_eq!(token.region, None);
    }

    #[test]
    fn an_exact_key_wins_over_a_case_variant() {
        let json = br#"{"ACCESSTOKEN": "other", "accessToken": "tok", "expiresAt": "2021-12-25T21:30:00Z"}"#;
        assert_eq!(CachedToken::from_json(json).expect("valid").access_token.expose(), "tok");
    }

    #[test]
    fn requires_access_token_and_expires_at() {
        assert_eq!(
            CachedToken::from_json(br#"{"expiresAt": "2021-12-25T21:30:00Z"}"#),
            Err("accessToken is missing".to_owned())
        );
        assert_eq!(
            CachedToken::from_json(br#"{"accessToken": "tok"}"#),
            Err("expiresAt is missing".to_owned())
        );
        assert_eq!(
            CachedToken::from_json(br#"{"accessToken": "tok", "expiresAt": "soon"}"#),
            Err("expiresAt is not a timestamp".to_owned())
        );
    }

    #[test]
    fn load_missing_file_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load_token(&dir.path().join("nope.json")).expect("load"), None);
    }

    #[test]
    fn load_without_required_keys_is_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.json");
        std::fs::write(&path, r#"{"accessToken": "sekrit-value"}"#).expect("write");
        let err = load_token(&path).expect_err("corrupt");
        assert!(matches!(err, CacheError::Corrupt { what: CacheFile::Token, .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("expiresAt is missing"), "{message}");
        assert!(!message.contains("sekrit-value"), "{message}");
    }

    #[test]
    fn load_garbage_is_corrupt_naming_the_path_but_not_the_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.json");
        std::fs::write(&path, "{\"accessToken\": \"sekrit-value\", oops").expect("write");
        let err = load_token(&path).expect_err("corrupt");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("not JSON"), "{message}");
        assert!(!message.contains("sekrit"), "{message}");
        assert!(!format!("{err:?}").contains("sekrit"));
    }

    #[test]
    fn save_then_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sso/cache/d033e22ae348aeb5660fc2140aec35850c4da997.json");
        save_token(&path, &full_token()).expect("save");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), full_token().to_cli_json());
        assert_eq!(load_token(&path).expect("load"), Some(full_token()));
    }

    #[test]
    fn refreshable_needs_everything_and_a_live_registration() {
        let now = ts("2024-06-01T00:00:00Z");
        assert!(full_token().is_refreshable(now));
        assert!(!CachedToken { refresh_token: None, ..full_token() }.is_refreshable(now));
        assert!(!CachedToken { client_id: None, ..full_token() }.is_refreshable(now));
        assert!(!CachedToken { client_secret: None, ..full_token() }.is_refreshable(now));
        assert!(!CachedToken { registration_expires_at: None, ..full_token() }.is_refreshable(now));
        // The registration expires at 2024-08-01T12:00:00Z.
        assert!(!full_token().is_refreshable(ts("2024-08-01T12:00:00Z")));
        assert!(full_token().is_refreshable(ts("2024-08-01T11:59:59Z")));
    }

    #[test]
    fn remaining_is_negative_once_expired() {
        let token = full_token();
        assert_eq!(token.remaining(ts("2024-05-01T19:45:00Z")), SignedDuration::from_mins(15));
        assert_eq!(token.remaining(ts("2024-05-01T20:00:10Z")), SignedDuration::from_secs(-10));
    }

    #[test]
    fn debug_shows_no_secret() {
        let debug = format!("{:?}", full_token());
        for secret in ["\"AT\"", "SECRET", "\"RT\""] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains("CLIENTID"), "{debug}");
    }

    #[test]
    fn token_files_are_those_with_an_access_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write =
            |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
        write("token.json", r#"{"accessToken": "a", "expiresAt": "2024-05-01T20:00:00Z"}"#);
        write("token-without-expiry.json", r#"{"accessToken": "a"}"#);
        write("registration.json", r#"{"clientId": "c", "clientSecret": "s", "expiresAt": "x"}"#);
        write("garbage.json", "not json");
        write("list.json", r#"["accessToken"]"#);
        std::fs::create_dir(dir.path().join("sub.json")).expect("mkdir");
        let names: Vec<String> = sso_token_files(dir.path())
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();
        assert_eq!(names, ["token-without-expiry.json", "token.json"]);
        assert!(sso_token_files(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn a_session_ends_when_refreshing_stops_or_with_the_token() {
        let ts = |t: &str| t.parse::<Timestamp>().expect("time");
        let token = |expires: &str, registration: Option<&str>, refresh: bool| CachedToken {
            start_url: None,
            region: None,
            access_token: Secret::new("AT"),
            expires_at: ts(expires),
            client_id: Some("client".to_owned()),
            client_secret: Some(Secret::new("secret")),
            registration_expires_at: registration.map(ts),
            refresh_token: refresh.then(|| Secret::new("RT")),
        };
        let now = ts("2026-01-01T00:00:00Z");
        let refreshable = token("2026-01-01T08:00:00Z", Some("2026-03-01T00:00:00Z"), true);
        assert_eq!(refreshable.session_ends_at(now), ts("2026-03-01T00:00:00Z"));
        let no_refresh_token = token("2026-01-01T08:00:00Z", Some("2026-03-01T00:00:00Z"), false);
        assert_eq!(no_refresh_token.session_ends_at(now), ts("2026-01-01T08:00:00Z"));
        let registration_first = token("2026-01-01T08:00:00Z", Some("2026-01-01T02:00:00Z"), true);
        assert_eq!(registration_first.session_ends_at(now), ts("2026-01-01T08:00:00Z"));
    }
}
