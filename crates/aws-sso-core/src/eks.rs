//! EKS tokens for kubectl's exec credential plugin (docs/aws-contracts.md §11): `k8s-aws-v1.` and
//! the unpadded base64url of a GetCallerIdentity URL presigned for 60 seconds with the cluster's
//! name in the signed `x-k8s-aws-id` header, as `aws eks get-token` makes it; and the
//! `ExecCredential` JSON kubectl reads. A token lives 14 minutes by the AWS CLI's count, so it is
//! cached (it is a credential: 0600) until a minute before then.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::cache::role_credentials::RoleCredentials;
use crate::cache::{CacheError, sha1_hex};
use crate::env::Environment;
use crate::sigv4::{Keys, Request, Scope, presign};

/// The prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// How long the presigned URL is valid, as `aws eks get-token` signs it.
pub const URL_EXPIRES_SECS: u64 = 60;

/// The lifetime `aws eks get-token` reports (`expirationTimestamp`), from the signing time.
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_mins(14);

/// A cached token is used until this long before its `expirationTimestamp`.
pub const REUSE_MARGIN: SignedDuration = SignedDuration::from_mins(1);

/// The exec-credential API versions kubectl speaks.
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
pub const V1: &str = "client.authentication.k8s.io/v1";

/// A token and when kubectl should ask for another.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub token: String,
    #[serde(with = "timestamp_z")]
    pub expiration_timestamp: Timestamp,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("token", &"<redacted>")
            .field("expiration_timestamp", &self.expiration_timestamp)
            .finish()
    }
}

/// What a token is for.
pub struct TokenRequest<'a> {
    pub cluster: &'a str,
    /// The STS endpoint of the region (`https://sts.<region>.amazonaws.com`, or a configured one).
    pub sts_endpoint: &'a str,
    pub region: &'a str,
}

/// A token for `request`, signed with `creds` at `now`.
pub fn token(request: &TokenRequest<'_>, creds: &RoleCredentials, now: Timestamp) -> Token {
    let (scheme, rest) =
        request.sts_endpoint.split_once("://").unwrap_or(("https", request.sts_endpoint));
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let query = presign(
        &Request {
            method: "GET",
            host,
            path,
            query: vec![
                ("Action".to_owned(), "GetCallerIdentity".to_owned()),
                ("Version".to_owned(), "2011-06-15".to_owned()),
            ],
            headers: vec![("x-k8s-aws-id".to_owned(), request.cluster.to_owned())],
            body: b"",
        },
        &Keys {
            access_key_id: &creds.access_key_id,
            secret_access_key: creds.secret_access_key.expose(),
            session_token: Some(creds.session_token.expose()),
        },
        Scope { region: request.region, service: "sts", time: now },
        URL_EXPIRES_SECS,
    );
    let url = format!("{scheme}://{host}{path}?{query}");
    Token {
        token: format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        ),
        expiration_timestamp: now + TOKEN_LIFETIME,
    }
}

/// The `ExecCredential` kubectl reads, in `api_version` (`v1beta1` unless kubectl asked for `v1`
/// in `KUBERNETES_EXEC_INFO`), with the AWS CLI's key order.
pub fn exec_credential(token: &Token, api_version: &str) -> String {
    let value = serde_json::json!({
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {},
        "status": {
            "expirationTimestamp": format_z(token.expiration_timestamp),
            "token": token.token,
        }
    });
    let mut text = value.to_string();
    text.push('\n');
    text
}

/// The API version kubectl asks for in `KUBERNETES_EXEC_INFO` (`{"apiVersion": …}`), when it is
/// one this answers; `v1beta1` otherwise.
pub fn api_version(env: &Environment) -> &'static str {
    let asked = env
        .non_empty("KUBERNETES_EXEC_INFO")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|v| v.get("apiVersion").and_then(|a| a.as_str()).map(str::to_owned));
    match asked.as_deref() {
        Some(V1) => V1,
        _ => V1BETA1,
    }
}

/// Where the token of `cluster` for this account, role (and roles assumed from it) and region is
/// cached: `<cache dir>/eks/<sha1 of them>.json`.
pub fn cache_path(env: &Environment, parts: &[&str]) -> Option<PathBuf> {
    Some(
        crate::dirs::cache_dir(env)?
            .join("eks")
            .join(format!("{}.json", sha1_hex(&parts.join("\n")))),
    )
}

/// The cached token at `path` while it has more than [`REUSE_MARGIN`] left at `now`.
pub fn cached(path: &Path, now: Timestamp) -> Option<Token> {
    let bytes = crate::cache::fs::read_if_exists(path).ok().flatten()?;
    let token: Token = serde_json::from_slice(&bytes).ok()?;
    (token.expiration_timestamp.duration_since(now) > REUSE_MARGIN
        && token.token.starts_with(TOKEN_PREFIX))
    .then_some(token)
}

/// Saves `token` at `path` (0600, atomically).
pub fn save(path: &Path, token: &Token) -> Result<(), CacheError> {
    let bytes = serde_json::to_vec(token).map_err(|e| {
        CacheError::corrupt(
            path,
            crate::cache::CacheFile::EksToken,
            format!("cannot be written: {e}"),
        )
    })?;
    crate::cache::fs::write_private(path, &bytes)
}

/// `2026-12-07T01:16:03Z`, as the AWS CLI writes `expirationTimestamp`.
fn format_z(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

mod timestamp_z {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_z(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn creds() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: Secret::new("IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=chars"),
            expiration: "2026-12-07T02:02:03Z".parse().unwrap(),
            account_id: "123456789012".to_owned(),
        }
    }

    #[test]
    fn the_token_is_the_presigned_url_botocore_signs_for_the_same_keys_and_clock() {
        let now: Timestamp = "2026-12-07T01:02:03Z".parse().unwrap();
        let request = TokenRequest {
            cluster: "demo",
            sts_endpoint: "https://sts.us-west-2.amazonaws.com",
            region: "us-west-2",
        };
        let token = token(&request, &creds(), now);
        assert_eq!(token.expiration_timestamp, "2026-12-07T01:16:03Z".parse().unwrap());
        let encoded = token.token.strip_prefix(TOKEN_PREFIX).expect("prefix");
        assert!(!encoded.contains('='), "unpadded");
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).expect("b64");
        // botocore 1.43.11's SigV4QueryAuth for these keys, this clock, host and header.
        assert_eq!(
            String::from_utf8(url).expect("utf-8"),
            "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20261207T010203Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2FTOKEN%2Bwith%3Dchars&X-Amz-Signature=23e84501142629fbb46bbc440540f5b5ee099c84412fb1dea45d8b02dfa1af48"
        );
        assert!(!format!("{token:?}").contains("k8s-aws-v1"), "Debug hides the token");
    }

    #[test]
    fn the_exec_credential_is_what_kubectl_reads_in_the_version_it_asks() {
        let token = Token {
            token: "k8s-aws-v1.abc".to_owned(),
            expiration_timestamp: "2026-12-07T01:16:03Z".parse().unwrap(),
        };
        assert_eq!(
            exec_credential(&token, V1BETA1),
            "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"spec\":{},\"status\":{\"expirationTimestamp\":\"2026-12-07T01:16:03Z\",\"token\":\"k8s-aws-v1.abc\"}}\n"
        );
        let asks =
            |info: &str| api_version(&Environment::from_pairs([("KUBERNETES_EXEC_INFO", info)]));
        assert_eq!(
            asks(r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}"#),
            V1
        );
        assert_eq!(asks(r#"{"apiVersion":"client.authentication.k8s.io/v1beta1"}"#), V1BETA1);
        assert_eq!(asks("not json"), V1BETA1);
        assert_eq!(api_version(&Environment::default()), V1BETA1);
    }

    #[test]
    fn a_cached_token_serves_until_a_minute_before_it_expires() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("eks").join("t.json");
        let token = Token {
            token: "k8s-aws-v1.abc".to_owned(),
            expiration_timestamp: "2026-12-07T01:16:03Z".parse().unwrap(),
        };
        save(&path, &token).expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(cached(&path, "2026-12-07T01:15:00Z".parse().unwrap()), Some(token.clone()));
        assert_eq!(cached(&path, "2026-12-07T01:15:03Z".parse().unwrap()), None);
        std::fs::write(&path, b"{broken").expect("write");
        assert_eq!(cached(&path, "2026-12-07T01:00:00Z".parse().unwrap()), None);
    }
}
