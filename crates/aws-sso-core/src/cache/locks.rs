//! Where the cross-process locks of [`crate::lock`] live: `<our cache dir>/locks`, one file per
//! session (login and refresh) and per role (credential fetches).

use std::path::{Path, PathBuf};

use super::{RoleCredentialsKey, sha1_hex};
use crate::env::Environment;

/// `<our cache dir>/locks`. Without a home directory (where nothing else works either) the
/// system temporary directory stands in, so a lock can still be taken.
fn locks_dir(env: &Environment) -> PathBuf {
    crate::dirs::cache_dir(env)
        .unwrap_or_else(|| std::env::temp_dir().join("aws-sso"))
        .join("locks")
}

/// The lock around login and token refresh of a session: `identifier` is the sso-session name,
/// or the start URL of a legacy profile (what the token file is named after).
pub fn session_lock_path(env: &Environment, identifier: &str) -> PathBuf {
    locks_dir(env).join(format!("login-{}.lock", sha1_hex(identifier)))
}

/// The lock around every read-modify-write of one AWS config file (`configure`,
/// `--write-profiles`, a login's `sso_region`), named after the file's absolute path.
pub fn config_lock_path(env: &Environment, config: &Path) -> PathBuf {
    let absolute = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
    locks_dir(env).join(format!("config-{}.lock", sha1_hex(&absolute.to_string_lossy())))
}

/// The lock around every read-merge-write of one account cache, named after its path.
pub fn account_cache_lock_path(env: &Environment, cache: &Path) -> PathBuf {
    locks_dir(env).join(format!("accounts-{}.lock", sha1_hex(&cache.to_string_lossy())))
}

/// The lock held while the shell hook (or the fetch it started in the background) fetches the
/// account index of the session `identifier` names (its name, or a legacy profile's start
/// URL): one such fetch at a time, and a prompt that finds it held does not wait.
pub fn account_fetch_lock_path(env: &Environment, identifier: &str) -> PathBuf {
    locks_dir(env).join(format!("accounts-fetch-{}.lock", sha1_hex(identifier)))
}

/// The lock around every change of one allow record (`allow`, `deny`, the first use that
/// completes it), named after the record's path.
pub fn allow_lock_path(env: &Environment, record: &Path) -> PathBuf {
    locks_dir(env).join(format!("allow-{}.lock", sha1_hex(&record.to_string_lossy())))
}

/// The lock around fetching one role's credentials.
pub fn role_lock_path(env: &Environment, key: &RoleCredentialsKey) -> PathBuf {
    locks_dir(env).join(format!("role-{}.lock", key.cache_key()))
}

/// The lock around assuming one chained role (the name of its cache entry).
pub fn assume_role_lock_path(env: &Environment, cache_key: &str) -> PathBuf {
    locks_dir(env).join(format!("assume-role-{cache_key}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_paths_live_in_our_cache_dir() {
        let env = Environment::from_pairs([("HOME", "/home/me")]);
        assert_eq!(
            session_lock_path(&env, "admin"),
            Path::new(
                "/home/me/.cache/aws-sso/locks/login-d033e22ae348aeb5660fc2140aec35850c4da997.lock"
            )
        );
        let key = RoleCredentialsKey::Session {
            session_name: "my-sso".to_owned(),
            account_id: "012345678912".to_owned(),
            role_name: "SSORole".to_owned(),
        };
        assert_eq!(
            role_lock_path(&env, &key),
            Path::new(
                "/home/me/.cache/aws-sso/locks/role-6eeddf27be175542f3ea0a5ab0565fb1a98e5017.lock"
            )
        );
        let config = config_lock_path(&env, Path::new("/home/me/.aws/config"));
        assert_eq!(config.parent(), Some(Path::new("/home/me/.cache/aws-sso/locks")));
        assert_eq!(
            config.file_name().and_then(|n| n.to_str()),
            Some(format!("config-{}.lock", sha1_hex("/home/me/.aws/config")).as_str())
        );
        let nowhere = session_lock_path(&Environment::default(), "admin");
        assert!(nowhere.starts_with(std::env::temp_dir()), "{}", nowhere.display());
    }
}
