//! The OIDC client registrations the AWS CLI v2 caches in `~/.aws/sso/cache`, under the same key
//! recipe, so either tool reuses a registration the other made.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use super::{CacheError, CacheFile, LenientObject, fs, sha1_hex};
use crate::py_json::{PyValue, Separators, dumps};
use crate::secret::Secret;
use crate::time::format_cli;

/// A registration is reused only while this much of its life is left (the CLI's
/// `_EXPIRY_WINDOW`).
const REUSE_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// The grant type that marks a registration made for the authorization-code (PKCE) flow.
const AUTHORIZATION_CODE: &str = "authorization_code";

/// What a registration is cached under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationKey {
    /// The start URL exactly as configured.
    pub start_url: String,
    /// The SSO region.
    pub region: String,
    /// The parsed `sso_registration_scopes`, `None` when the key is absent.
    pub scopes: Option<Vec<String>>,
    /// The sso-session name; `None` for a legacy profile.
    pub session_name: Option<String>,
}

impl RegistrationKey {
    /// SHA-1 of `json.dumps({...}, sort_keys=True)` with the literal `"tool": "botocore"`.
    pub fn cache_key(&self) -> String {
        sha1_hex(&self.hashed_text())
    }

    fn hashed_text(&self) -> String {
        let scopes = self.scopes.as_deref().map_or(PyValue::Null, PyValue::str_list);
        let fields = vec![
            ("region", PyValue::Str(&self.region)),
            ("scopes", scopes),
            ("session_name", PyValue::opt_str(self.session_name.as_deref())),
            ("startUrl", PyValue::Str(&self.start_url)),
            ("tool", PyValue::Str("botocore")),
        ];
        dumps(&PyValue::Object(fields), Separators::Default)
    }
}

/// Which login flow wants a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantFlow {
    DeviceCode,
    AuthorizationCode,
}

/// A cached client registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedRegistration {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires_at: Timestamp,
    pub scopes: Option<Vec<String>>,
    /// `["authorization_code", "refresh_token"]` for the PKCE flow; `None` for the device flow.
    pub grant_types: Option<Vec<String>>,
}

impl CachedRegistration {
    /// The bytes the AWS CLI v2 writes: `clientId`, `clientSecret`, `expiresAt`, then `scopes`
    /// and `grantTypes` when present.
    pub fn to_cli_json(&self) -> String {
        let expires_at = format_cli(self.expires_at);
        let mut fields = vec![
            ("clientId", PyValue::Str(&self.client_id)),
            ("clientSecret", PyValue::Str(self.client_secret.expose())),
            ("expiresAt", PyValue::Str(&expires_at)),
        ];
        if let Some(scopes) = &self.scopes {
            fields.push(("scopes", PyValue::str_list(scopes)));
        }
        if let Some(grants) = &self.grant_types {
            fields.push(("grantTypes", PyValue::str_list(grants)));
        }
        dumps(&PyValue::Object(fields), Separators::Default)
    }

    /// Reads a registration leniently: `clientId`, `clientSecret` and `expiresAt` are required.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let object = LenientObject::parse(bytes)?;
        Ok(Self {
            client_id: object.required_str("clientId")?.to_owned(),
            client_secret: Secret::new(object.required_str("clientSecret")?),
            expires_at: object.required_time("expiresAt")?,
            scopes: object.str_list("scopes"),
            grant_types: object.str_list("grantTypes"),
        })
    }

    /// Whether `flow` may reuse this registration now: at least 15 minutes left, and made for
    /// that flow (each flow rejects the other's registration, as the CLI does).
    pub fn usable_for(&self, flow: GrantFlow, now: Timestamp) -> bool {
        let for_auth_code =
            self.grant_types.as_ref().is_some_and(|g| g.iter().any(|t| t == AUTHORIZATION_CODE));
        let flow_matches = for_auth_code == (flow == GrantFlow::AuthorizationCode);
        flow_matches && self.expires_at.duration_since(now) >= REUSE_WINDOW
    }
}

/// The registration at `path`; `None` when there is no file, `Err(Corrupt)` when it is not one.
pub fn load_registration(path: &Path) -> Result<Option<CachedRegistration>, CacheError> {
    let Some(bytes) = fs::read_if_exists(path)? else {
        return Ok(None);
    };
    CachedRegistration::from_json(&bytes)
        .map(Some)
        .map_err(|reason| CacheError::corrupt(path, CacheFile::Registration, reason))
}

/// Writes the registration atomically, 0600, in the CLI's format.
pub fn save_registration(path: &Path, registration: &CachedRegistration) -> Result<(), CacheError> {
    fs::write_private(path, registration.to_cli_json().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn key(scopes: Option<&[&str]>, session_name: Option<&str>) -> RegistrationKey {
        RegistrationKey {
            start_url: "https://d-abc123.awsapps.com/start".to_owned(),
            region: "us-west-2".to_owned(),
            scopes: scopes.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
            session_name: session_name.map(str::to_owned),
        }
    }

    fn device_registration() -> CachedRegistration {
        CachedRegistration {
            client_id: "CLIENTID".to_owned(),
            client_secret: Secret::new("CLIENTSECRET"),
            expires_at: ts("2024-08-01T12:00:00Z"),
            scopes: None,
            grant_types: None,
        }
    }

    fn auth_code_registration() -> CachedRegistration {
        CachedRegistration {
            scopes: Some(vec!["sso:account:access".to_owned()]),
            grant_types: Some(vec!["authorization_code".to_owned(), "refresh_token".to_owned()]),
            ..device_registration()
        }
    }

    #[test]
    fn cache_keys_match_the_cli() {
        // docs/aws-contracts.md §3.8.
        let legacy = key(None, None);
        assert_eq!(
            legacy.hashed_text(),
            r#"{"region": "us-west-2", "scopes": null, "session_name": null, "startUrl": "https://d-abc123.awsapps.com/start", "tool": "botocore"}"#
        );
        assert_eq!(legacy.cache_key(), "d75f79f67bab3f92a2b1450471c0c2574de0dca4");
        assert_eq!(
            key(None, Some("admin")).cache_key(),
            "6c3e9adb2ef585febfde34a5e6e90cf2774c6636"
        );
        assert_eq!(
            key(Some(&["sso:account:access"]), Some("admin")).cache_key(),
            "4e0b35ce126fbacfad7c16ce93ffe85ce6cafeed"
        );
    }

    #[test]
    fn empty_scopes_are_an_empty_list_not_null() {
        let text = key(Some(&[]), None).hashed_text();
        assert!(text.contains(r#""scopes": [], "#), "{text}");
        let two = key(Some(&["a", "b"]), None).hashed_text();
        assert!(two.contains(r#""scopes": ["a", "b"], "#), "{two}");
    }

    #[test]
    fn path_is_the_key_in_the_sso_cache() {
        let dirs = super::super::CacheDirs::under_home(Path::new("/h"));
        assert_eq!(
            dirs.registration_path(&key(None, None)),
            Path::new("/h/.aws/sso/cache/d75f79f67bab3f92a2b1450471c0c2574de0dca4.json")
        );
    }

    #[test]
    fn writes_the_cli_bytes() {
        assert_eq!(
            device_registration().to_cli_json(),
            r#"{"clientId": "CLIENTID", "clientSecret": "CLIENTSECRET", "expiresAt": "2024-08-01T12:00:00Z"}"#
        );
        assert_eq!(
            auth_code_registration().to_cli_json(),
            r#"{"clientId": "CLIENTID", "clientSecret": "CLIENTSECRET", "expiresAt": "2024-08-01T12:00:00Z", "scopes": ["sso:account:access"], "grantTypes": ["authorization_code", "refresh_token"]}"#
        );
    }

    #[test]
    fn round_trips_and_reads_leniently() {
        let reg = auth_code_registration();
        assert_eq!(CachedRegistration::from_json(reg.to_cli_json().as_bytes()), Ok(reg));
        let odd = br#"{"ClientId": "id", "clientsecret": "s", "expiresAt": "2024-08-01T12:00:00.5+00:00", "scopes": null, "extra": 1}"#;
        let reg = CachedRegistration::from_json(odd).expect("valid");
        assert_eq!(reg.client_id, "id");
        assert_eq!(reg.expires_at, ts("2024-08-01T12:00:00.5Z"));
        assert_eq!(reg.scopes, None);
    }

    #[test]
    fn requires_client_id_secret_and_expiry() {
        assert_eq!(
            CachedRegistration::from_json(
                br#"{"clientId": "id", "expiresAt": "2024-08-01T12:00:00Z"}"#
            ),
            Err("clientSecret is missing".to_owned())
        );
        assert_eq!(
            CachedRegistration::from_json(br#"{"clientId": "id", "clientSecret": "s"}"#),
            Err("expiresAt is missing".to_owned())
        );
    }

    #[test]
    fn reuse_needs_fifteen_minutes_left() {
        let reg = device_registration();
        assert!(reg.usable_for(GrantFlow::DeviceCode, ts("2024-08-01T11:45:00Z")));
        assert!(!reg.usable_for(GrantFlow::DeviceCode, ts("2024-08-01T11:46:00Z")));
        assert!(!reg.usable_for(GrantFlow::DeviceCode, ts("2024-08-02T00:00:00Z")));
    }

    #[test]
    fn reuse_needs_the_matching_grant() {
        let now = ts("2024-06-01T00:00:00Z");
        assert!(auth_code_registration().usable_for(GrantFlow::AuthorizationCode, now));
        assert!(!auth_code_registration().usable_for(GrantFlow::DeviceCode, now));
        assert!(device_registration().usable_for(GrantFlow::DeviceCode, now));
        assert!(!device_registration().usable_for(GrantFlow::AuthorizationCode, now));
        // Grant types without authorization_code count as a device registration.
        let refresh_only = CachedRegistration {
            grant_types: Some(vec!["refresh_token".to_owned()]),
            ..device_registration()
        };
        assert!(refresh_only.usable_for(GrantFlow::DeviceCode, now));
        assert!(!refresh_only.usable_for(GrantFlow::AuthorizationCode, now));
    }

    #[test]
    fn save_load_and_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cache").join("reg.json");
        assert_eq!(load_registration(&path).expect("load"), None);
        save_registration(&path, &auth_code_registration()).expect("save");
        assert_eq!(load_registration(&path).expect("load"), Some(auth_code_registration()));
        std::fs::write(&path, r#"{"clientId": "id", "clientSecret": "CLIENTSECRET"}"#)
            .expect("write");
        let err = load_registration(&path).expect_err("corrupt");
        assert!(matches!(err, CacheError::Corrupt { what: CacheFile::Registration, .. }));
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(!err.to_string().contains("CLIENTSECRET"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let debug = format!("{:?}", auth_code_registration());
        assert!(!debug.contains("CLIENTSECRET"), "{debug}");
        assert!(debug.contains("CLIENTID"), "{debug}");
    }
}
