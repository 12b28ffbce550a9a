//! Assume-role credentials in `~/.aws/cli/cache`, under the key and in the shape botocore's
//! `AssumeRoleCredentialFetcher` uses (docs/aws-contracts.md §10.4), so that the AWS CLI and
//! every botocore program reuse what we fetched, and we reuse theirs.

use std::path::{Path, PathBuf};

use super::{CacheError, CacheFile, LenientObject, fs};
use crate::cache::role_credentials::RoleCredentials;
use crate::py_json::{PyValue, Separators, dumps};
use crate::secret::Secret;
use crate::sts::{AssumeRoleParams, AssumedRole};
use crate::time::{format_cli, parse_lenient};

/// The arguments botocore hashes into the cache key: the AssumeRole parameters as configured.
/// The session name is left out when it was generated (`botocore-session-<epoch>`), as botocore
/// leaves it out, so that a new process finds the entry of the last.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AssumeRoleKey {
    pub role_arn: String,
    /// `role_session_name` of the profile; `None` when the name is generated.
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<i64>,
}

impl AssumeRoleKey {
    /// `sha1(json.dumps(args, sort_keys=True))`, made file-safe (a hex digest already is).
    pub fn cache_key(&self) -> String {
        super::sha1_hex(&self.hashed_text())
    }

    fn hashed_text(&self) -> String {
        // Sorted by key, as `sort_keys=True` sorts them.
        let mut fields = Vec::new();
        if let Some(duration) = self.duration_seconds {
            fields.push(("DurationSeconds", PyValue::Int(duration)));
        }
        if let Some(external_id) = &self.external_id {
            fields.push(("ExternalId", PyValue::Str(external_id)));
        }
        fields.push(("RoleArn", PyValue::Str(&self.role_arn)));
        if let Some(name) = &self.role_session_name {
            fields.push(("RoleSessionName", PyValue::Str(name)));
        }
        dumps(&PyValue::Object(fields), Separators::Default)
    }

    /// The request parameters, with `session_name` when none is configured.
    pub fn params(&self, generated_session_name: impl FnOnce() -> String) -> AssumeRoleParams {
        AssumeRoleParams {
            role_arn: self.role_arn.clone(),
            role_session_name: self
                .role_session_name
                .clone()
                .unwrap_or_else(generated_session_name),
            external_id: self.external_id.clone(),
            duration_seconds: self.duration_seconds,
        }
    }
}

/// `<dir>/<key>.json`.
pub fn assume_role_file(dir: &Path, key: &AssumeRoleKey) -> PathBuf {
    dir.join(format!("{}.json", key.cache_key()))
}

/// The bytes botocore writes for the AssumeRole answer (`Credentials` with the account id it
/// adds, `AssumedRoleUser`), keys in the order of the answer; no `ProviderType`, so that
/// `aws sso logout` leaves it, as it leaves botocore's.
pub fn to_cli_json(assumed: &AssumedRole, account_id: &str) -> String {
    let expiration = format_cli(assumed.expiration);
    let credentials = PyValue::Object(vec![
        ("AccessKeyId", PyValue::Str(&assumed.access_key_id)),
        ("SecretAccessKey", PyValue::Str(assumed.secret_access_key.expose())),
        ("SessionToken", PyValue::Str(assumed.session_token.expose())),
        ("Expiration", PyValue::Str(&expiration)),
        ("AccountId", PyValue::Str(account_id)),
    ]);
    let mut entry = vec![("Credentials", credentials)];
    if let (Some(arn), Some(id)) = (&assumed.assumed_role_arn, &assumed.assumed_role_id) {
        entry.push((
            "AssumedRoleUser",
            PyValue::Object(vec![("AssumedRoleId", PyValue::Str(id)), ("Arn", PyValue::Str(arn))]),
        ));
    }
    dumps(&PyValue::Object(entry), Separators::Default)
}

/// Reads an entry leniently. `AccountId` is optional (botocore before 1.37 did not write it):
/// `account_id` stands in for it. The error never quotes the content.
pub fn from_cli_json(bytes: &[u8], account_id: &str) -> Result<RoleCredentials, String> {
    let entry = LenientObject::parse(bytes)?;
    let credentials = entry.object("Credentials").ok_or("Credentials is missing")?;
    let expiration = credentials.required_str("Expiration")?;
    Ok(RoleCredentials {
        access_key_id: credentials.required_str("AccessKeyId")?.to_owned(),
        secret_access_key: Secret::new(credentials.required_str("SecretAccessKey")?),
        session_token: Secret::new(credentials.required_str("SessionToken")?),
        expiration: parse_lenient(expiration).ok_or("Expiration is not a timestamp")?,
        account_id: credentials.str("AccountId").unwrap_or(account_id).to_owned(),
    })
}

/// The entry at `path`; `None` when there is none.
pub fn load(path: &Path, account_id: &str) -> Result<Option<RoleCredentials>, CacheError> {
    let Some(bytes) = fs::read_if_exists(path)? else {
        return Ok(None);
    };
    from_cli_json(&bytes, account_id)
        .map(Some)
        .map_err(|reason| CacheError::corrupt(path, CacheFile::AssumeRole, reason))
}

/// Writes the entry atomically, 0600.
pub fn save(path: &Path, assumed: &AssumedRole, account_id: &str) -> Result<(), CacheError> {
    fs::write_private(path, to_cli_json(assumed, account_id).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    const ARN: &str = "arn:aws:iam::222222222222:role/Spoke";

    fn key(
        name: Option<&str>,
        external_id: Option<&str>,
        duration_seconds: Option<i64>,
    ) -> AssumeRoleKey {
        AssumeRoleKey {
            role_arn: ARN.to_owned(),
            role_session_name: name.map(str::to_owned),
            external_id: external_id.map(str::to_owned),
            duration_seconds,
        }
    }

    /// Computed with botocore 1.43.11:
    /// `AssumeRoleCredentialFetcher(None, None, ARN, extra_args=…)._cache_key`.
    #[test]
    fn keys_are_botocores() {
        assert_eq!(key(None, None, None).cache_key(), "6fe6cea0cf76bd6b779344e8f4a67c4e32db89d4");
        assert_eq!(
            key(Some("alice"), Some("ext-1"), Some(900)).cache_key(),
            "9d6f79eeb5867b143cff576a1a4f5ca281cd4cae"
        );
        assert_eq!(
            key(None, Some("é/x"), None).cache_key(),
            "50b487b6bb0369cb3cbefb4f06bd94343f35d235"
        );
        assert_eq!(
            key(Some("alice"), Some("ext-1"), Some(900)).hashed_text(),
            r#"{"DurationSeconds": 900, "ExternalId": "ext-1", "RoleArn": "arn:aws:iam::222222222222:role/Spoke", "RoleSessionName": "alice"}"#
        );
    }

    fn assumed() -> AssumedRole {
        AssumedRole {
            access_key_id: "ASIAASSUMED".to_owned(),
            secret_access_key: Secret::new("ASSUMED-SECRET"),
            session_token: Secret::new("ASSUMED-TOKEN"),
            expiration: Timestamp::from_second(1_796_000_000).expect("time"),
            assumed_role_arn: Some(
                "arn:aws:sts::222222222222:assumed-role/Spoke/botocore-session-1".to_owned(),
            ),
            assumed_role_id: Some("AROAEXAMPLE:botocore-session-1".to_owned()),
        }
    }

    #[test]
    fn entries_are_written_as_botocore_writes_them_and_read_back() {
        let text = to_cli_json(&assumed(), "222222222222");
        assert_eq!(
            text,
            r#"{"Credentials": {"AccessKeyId": "ASIAASSUMED", "SecretAccessKey": "ASSUMED-SECRET", "SessionToken": "ASSUMED-TOKEN", "Expiration": "2026-11-30T00:53:20Z", "AccountId": "222222222222"}, "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:botocore-session-1", "Arn": "arn:aws:sts::222222222222:assumed-role/Spoke/botocore-session-1"}}"#
        );
        let read = from_cli_json(text.as_bytes(), "999999999999").expect("reads");
        assert_eq!(read.access_key_id, "ASIAASSUMED");
        assert_eq!(read.account_id, "222222222222");
        assert_eq!(read.expiration, assumed().expiration);
    }

    #[test]
    fn botocores_own_entries_are_read() {
        // As botocore's JSONFileCache writes the answer: `%Z` time, ResponseMetadata, no
        // AccountId before botocore 1.37.
        let text = r#"{"Credentials": {"AccessKeyId": "ASIABOTO", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "2026-12-07T04:00:00UTC"}, "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": "arn:aws:sts::222222222222:assumed-role/Spoke/x"}, "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200}}"#;
        let read = from_cli_json(text.as_bytes(), "222222222222").expect("reads");
        assert_eq!(read.access_key_id, "ASIABOTO");
        assert_eq!(read.account_id, "222222222222");
        assert_eq!(read.expiration.to_string(), "2026-12-07T04:00:00Z");
    }

    #[test]
    fn saved_entries_are_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = assume_role_file(dir.path(), &key(None, None, None));
        save(&path, &assumed(), "222222222222").expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&path, "x").expect("load").expect("some").access_key_id, "ASIAASSUMED");
        std::fs::write(&path, "{").expect("write");
        let error = load(&path, "x").expect_err("corrupt").to_string();
        assert!(!error.contains('{'), "{error}");
    }
}
