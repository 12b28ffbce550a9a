//! The account cache, `<cache dir>/aws-sso/accounts-<session>.json` (docs/ARCHITECTURE.md §3): every
//! account a session reaches, with its name, e-mail and roles, and when they were fetched.
//!
//! `aws-sso-ls` lists from it while it is fresh, and completion and the account-name lookups of
//! `aws-sso-env` read it. It holds no secret, but is written like the other caches (atomically,
//! 0600) since account names can be sensitive too.
//!
//! ```json
//! {"version":1,"ssoSession":"corp","startUrl":"…","region":"…","fetchedAt":"…Z",
//!  "accounts":[{"accountId":"…","accountName":"…","emailAddress":"…","roles":["A","B"],
//!               "rolesFetchedAt":"…Z"}]}
//! ```

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{CacheError, CacheFile, sha1_hex};
use crate::env::Environment;
use crate::target::SessionTarget;
use crate::time::{format_cli, parse_lenient};

/// The format version this code reads and writes.
const VERSION: u64 = 1;

/// How far in the future a `fetchedAt` may be (clocks disagree a little) and still count as fresh.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// The most candidates an ambiguous lookup names in its message.
const MAX_CANDIDATES_SHOWN: usize = crate::names::MAX_LISTED;

/// The accounts and roles of one session, as last fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCache {
    /// The `[sso-session]` name; `None` for a legacy profile.
    pub sso_session: Option<String>,
    pub start_url: String,
    pub region: String,
    /// When the list of accounts was fetched.
    pub fetched_at: Timestamp,
    pub accounts: Vec<CachedAccount>,
}

/// One account of the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedAccount {
    pub account_id: String,
    pub account_name: String,
    pub email_address: Option<String>,
    /// Sorted. Empty when the account has no role for this user, or they were never fetched.
    pub roles: Vec<String>,
    /// When `roles` was fetched; `None` when it never was (e.g. after `aws-sso-ls --accounts`).
    pub roles_fetched_at: Option<Timestamp>,
}

impl CachedAccount {
    /// `Name (123456789012)`, as messages name an account.
    pub fn label(&self) -> String {
        format!("{} ({})", self.account_name, self.account_id)
    }
}

/// How old the account index may be before a name it lacks is looked for again: the account may
/// be new. Younger than this, a fetch could not tell more.
pub const INDEX_RECHECK: SignedDuration = SignedDuration::from_mins(1);

/// Why an account could not be found in the cache.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountLookupError {
    #[error("{0}")]
    NotFound(Box<NotFound>),
    #[error(
        "\"{query}\" matches {} accounts: {}. Name one by its id or whole name, or use more of the name.",
        candidates.len(),
        list_candidates(candidates)
    )]
    Ambiguous {
        query: String,
        /// `Name (id)` of each account that matches.
        candidates: Vec<String>,
    },
}

/// No account matched: what was looked for, among what, and what may help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "No account matches \"{query}\" among the {count} accounts of {session} (listed {age}).{}{}",
    closest_text(closest),
    refresh.as_deref().map(|r| format!(" If the account is new, refresh the list: {r}")).unwrap_or_default()
)]
pub struct NotFound {
    /// As typed, made printable.
    pub query: String,
    /// How the cache's session is named, e.g. `corp`.
    pub session: String,
    pub count: usize,
    /// How long ago the index was fetched, in words.
    pub age: String,
    /// `Name (id)` of the accounts whose names are closest to the query.
    pub closest: Vec<String>,
    /// The command that fetches the index again, when it is old enough that the account may be
    /// new.
    pub refresh: Option<String>,
}

fn closest_text(closest: &[String]) -> String {
    match closest {
        [] => String::new(),
        names => format!(" Closest: {}.", names.join(", ")),
    }
}

fn list_candidates(candidates: &[String]) -> String {
    crate::names::bounded_with(candidates, MAX_CANDIDATES_SHOWN)
}

/// `duration` ago, in the words a message uses: coarse, so that it reads at a glance.
fn age_in_words(age: SignedDuration) -> String {
    let secs = age.as_secs().max(0);
    let (n, unit) = match secs {
        s if s < 60 => return "less than a minute ago".to_owned(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 48 * 3600 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Where the account cache of `target` lives: `accounts-<session>.json` when the session name
/// is safe in a file name (`[A-Za-z0-9._@-]`), else `accounts-<sha1 of it>.json`; for a legacy
/// profile `accounts-<sha1 of the start URL>.json`. `None` when no cache directory can be found.
pub fn account_cache_path(env: &Environment, target: &SessionTarget) -> Option<PathBuf> {
    let id = match &target.session_name {
        Some(name) if is_file_name_safe(name) => name.clone(),
        Some(name) => sha1_hex(name),
        None => sha1_hex(&target.start_url),
    };
    Some(crate::dirs::cache_dir(env)?.join(format!("accounts-{id}.json")))
}

fn is_file_name_safe(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
}

/// Reads the cache at `path`; `Ok(None)` when there is none. A file that cannot be understood
/// (corrupt, cut short, another version) is [`CacheError::Corrupt`]: report it and treat the
/// cache as absent.
pub fn load_account_cache(path: &Path) -> Result<Option<AccountCache>, CacheError> {
    let Some(bytes) = super::fs::read_if_exists(path)? else { return Ok(None) };
    parse(&bytes).map(Some).map_err(|reason| CacheError::corrupt(path, CacheFile::Accounts, reason))
}

/// Writes the cache atomically (0600, in a directory created 0700).
pub fn save_account_cache(path: &Path, cache: &AccountCache) -> Result<(), CacheError> {
    let wire = WireCache {
        version: VERSION,
        sso_session: cache.sso_session.clone(),
        start_url: cache.start_url.clone(),
        region: cache.region.clone(),
        fetched_at: format_cli(cache.fetched_at),
        accounts: cache
            .accounts
            .iter()
            .map(|a| WireAccount {
                account_id: a.account_id.clone(),
                account_name: a.account_name.clone(),
                email_address: a.email_address.clone(),
                roles: a.roles.clone(),
                roles_fetched_at: a.roles_fetched_at.map(format_cli),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec(&wire).map_err(|e| {
        CacheError::corrupt(path, CacheFile::Accounts, format!("cannot be written: {e}"))
    })?;
    bytes.push(b'\n');
    super::fs::write_private(path, &bytes)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCache {
    version: u64,
    sso_session: Option<String>,
    start_url: String,
    region: String,
    fetched_at: String,
    accounts: Vec<WireAccount>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAccount {
    account_id: String,
    #[serde(default)]
    account_name: String,
    #[serde(default)]
    email_address: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    roles_fetched_at: Option<String>,
}

/// Only the version, to explain a file this code cannot read.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

fn parse(bytes: &[u8]) -> Result<AccountCache, String> {
    let wire: WireCache = match serde_json::from_slice(bytes) {
        Ok(wire) => wire,
        Err(e) => {
            if let Ok(VersionProbe { version: Some(v) }) = serde_json::from_slice(bytes)
                && v.as_u64() != Some(VERSION)
            {
                return Err(format!("version {v} is not one this aws-sso reads"));
            }
            return Err(describe(&e, bytes));
        }
    };
    if wire.version != VERSION {
        return Err(format!("version {} is not one this aws-sso reads", wire.version));
    }
    let time = |key: &str, text: &str| {
        parse_lenient(text).ok_or_else(|| format!("{key} is not a timestamp"))
    };
    let fetched_at = time("fetchedAt", &wire.fetched_at)?;
    let accounts = wire
        .accounts
        .into_iter()
        .map(|a| {
            let roles_fetched_at =
                a.roles_fetched_at.as_deref().map(|t| time("rolesFetchedAt", t)).transpose()?;
            Ok(CachedAccount {
                account_id: a.account_id,
                account_name: a.account_name,
                email_address: a.email_address,
                roles: a.roles,
                roles_fetched_at,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(AccountCache {
        sso_session: wire.sso_session,
        start_url: wire.start_url,
        region: wire.region,
        fetched_at,
        accounts,
    })
}

fn describe(e: &serde_json::Error, bytes: &[u8]) -> String {
    match e.classify() {
        serde_json::error::Category::Data if bytes.trim_ascii_start().first() != Some(&b'{') => {
            "the JSON is not an object".to_owned()
        }
        serde_json::error::Category::Eof => {
            format!("it is cut short (line {}, column {})", e.line(), e.column())
        }
        serde_json::error::Category::Syntax => {
            format!("it is not JSON (line {}, column {})", e.line(), e.column())
        }
        // The file holds no secret, so serde's own words (which may quote a value) are fine.
        _ => e.to_string(),
    }
}

impl AccountCache {
    /// An empty cache for `target`, fetched at `fetched_at`.
    pub fn new(target: &SessionTarget, fetched_at: Timestamp) -> Self {
        Self {
            sso_session: target.session_name.clone(),
            start_url: target.start_url.clone(),
            region: target.region.clone(),
            fetched_at,
            accounts: Vec::new(),
        }
    }

    /// Whether this cache was made for `target`: the same session and start URL. A session
    /// whose start URL changed points at another directory, so its old cache does not apply.
    pub fn is_for(&self, target: &SessionTarget) -> bool {
        self.sso_session == target.session_name && self.start_url == target.start_url
    }

    /// Fetched less than `ttl` ago (a `fetchedAt` a little in the future, from a clock that
    /// disagrees, still counts; one far in the future does not).
    pub fn is_fresh(&self, ttl: SignedDuration, now: Timestamp) -> bool {
        let age = now.duration_since(self.fetched_at);
        age < ttl && age > -CLOCK_SKEW
    }

    /// Accounts whose roles were never fetched: a listing from the cache would miss them.
    pub fn accounts_without_roles_fetched(&self) -> Vec<&CachedAccount> {
        self.accounts.iter().filter(|a| a.roles_fetched_at.is_none()).collect()
    }

    /// How messages name the cache's session: `corp`, or the start URL of a legacy profile.
    pub fn session_display_name(&self) -> &str {
        self.sso_session.as_deref().unwrap_or(&self.start_url)
    }

    /// The account `query` names on the command line, by the first of these that gives exactly
    /// one account (docs/ARCHITECTURE.md §6): its id; its name (any case); a prefix of its id or
    /// name; a part of its name (any case); a whole word of its name (split on `-`, `_`, `.` and
    /// spaces). When none gives exactly one, the accounts whose id or name contains the query are
    /// the candidates of an ambiguous match; when none contains it, it is not found. `now` dates
    /// the "not found" advice.
    pub fn find_account(
        &self,
        query: &str,
        now: Timestamp,
    ) -> Result<&CachedAccount, AccountLookupError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(self.not_found(query, now));
        }
        let lower = query.to_lowercase();
        let names: Vec<String> =
            self.accounts.iter().map(|a| a.account_name.to_lowercase()).collect();
        type Tier<'a> = &'a dyn Fn(&CachedAccount, &str) -> bool;
        let tiers: [Tier<'_>; 5] = [
            &|a, _| a.account_id == query,
            &|_, name| name == lower,
            &|a, name| a.account_id.starts_with(query) || name.starts_with(&lower),
            &|_, name| name.contains(&lower),
            &|_, name| name.split(['-', '_', '.', ' ']).any(|word| word == lower),
        ];
        for tier in tiers {
            let mut found = self.accounts.iter().zip(&names).filter(|(a, name)| tier(a, name));
            if let (Some((one, _)), None) = (found.next(), found.next()) {
                return Ok(one);
            }
        }
        let mut candidates: Vec<&CachedAccount> = self
            .accounts
            .iter()
            .zip(&names)
            .filter(|(a, name)| a.account_id.contains(query) || name.contains(&lower))
            .map(|(a, _)| a)
            .collect();
        if candidates.is_empty() {
            return Err(self.not_found(query, now));
        }
        candidates.sort_by(|a, b| account_order(a, b));
        Err(AccountLookupError::Ambiguous {
            query: crate::shell::printable(query),
            candidates: candidates.iter().map(|a| a.label()).collect(),
        })
    }

    fn not_found(&self, query: &str, now: Timestamp) -> AccountLookupError {
        let age = now.duration_since(self.fetched_at);
        let refresh = (age >= INDEX_RECHECK).then(|| match &self.sso_session {
            Some(name) => format!("aws-sso-ls --accounts --refresh --sso-session {name}"),
            None => "aws-sso-ls --accounts --refresh".to_owned(),
        });
        AccountLookupError::NotFound(Box::new(NotFound {
            query: crate::shell::printable(query),
            session: self.session_display_name().to_owned(),
            count: self.accounts.len(),
            age: age_in_words(age),
            closest: self.closest_names(query),
            refresh,
        }))
    }

    /// The accounts whose names are nearest `query` by edit distance (case-insensitive), close
    /// enough to be a likely typo: at most a third of the query's length away.
    fn closest_names(&self, query: &str) -> Vec<String> {
        let lower = query.to_lowercase();
        let bound = (lower.chars().count() / 3).max(1);
        let mut near: Vec<(usize, &CachedAccount)> = self
            .accounts
            .iter()
            .filter_map(|a| {
                let name = a.account_name.to_lowercase();
                let distance = strsim::levenshtein(&lower, &name);
                // A typo in a part of the name counts as much as one in the whole name.
                let in_word = name
                    .split(['-', '_', '.', ' '])
                    .map(|word| strsim::levenshtein(&lower, word))
                    .min()
                    .unwrap_or(distance);
                let distance = distance.min(in_word);
                (distance <= bound).then_some((distance, a))
            })
            .collect();
        near.sort_by(|(d1, a), (d2, b)| d1.cmp(d2).then_with(|| account_order(a, b)));
        near.into_iter().take(crate::names::MAX_CLOSEST).map(|(_, a)| a.label()).collect()
    }

    /// The account `query` names exactly: its id, else its whole name (as written, else unique
    /// ignoring case). What a project file names must not come to mean another account when the
    /// list grows, so no part of a name counts here (docs/ARCHITECTURE.md §6).
    pub fn find_account_exact(
        &self,
        query: &str,
        now: Timestamp,
    ) -> Result<&CachedAccount, AccountLookupError> {
        let query = query.trim();
        let exact = self
            .accounts
            .iter()
            .find(|a| !query.is_empty() && (a.account_id == query || a.account_name == query));
        if let Some(account) = exact {
            return Ok(account);
        }
        let lower = query.to_lowercase();
        let mut by_name: Vec<&CachedAccount> =
            self.accounts.iter().filter(|a| a.account_name.to_lowercase() == lower).collect();
        match by_name.as_slice() {
            [one] => Ok(one),
            [] => Err(self.not_found(query, now)),
            _ => {
                by_name.sort_by(|a, b| account_order(a, b));
                Err(AccountLookupError::Ambiguous {
                    query: crate::shell::printable(query),
                    candidates: by_name.iter().map(|a| a.label()).collect(),
                })
            }
        }
    }

    /// The account with this id.
    pub fn account(&self, account_id: &str) -> Option<&CachedAccount> {
        self.accounts.iter().find(|a| a.account_id == account_id)
    }

    /// How long ago the index was fetched.
    pub fn index_age(&self, now: Timestamp) -> SignedDuration {
        now.duration_since(self.fetched_at)
    }

    /// The roles of the account with this id; `None` when the cache has no such account.
    pub fn roles_of(&self, account_id: &str) -> Option<&[String]> {
        self.accounts.iter().find(|a| a.account_id == account_id).map(|a| a.roles.as_slice())
    }

    /// One row per account and role, sorted by account name (case-insensitive), account id, then
    /// role. Every term of `filter` must match (case-insensitive substring) the account id, the
    /// account name or the role of the row. An account without roles gives one row whose role
    /// is empty, so that it shows rather than silently vanishing.
    pub fn rows(&self, filter: &[String]) -> Vec<(&CachedAccount, &str)> {
        let terms = lowercase_terms(filter);
        let mut rows = Vec::new();
        for (account, id, name) in self.sorted_with_lowercase() {
            let account_matches = |t: &String| id.contains(t.as_str()) || name.contains(t.as_str());
            if account.roles.is_empty() {
                if terms.iter().all(account_matches) {
                    rows.push((account, ""));
                }
                continue;
            }
            let mut roles: Vec<(String, &str)> =
                account.roles.iter().map(|r| (r.to_lowercase(), r.as_str())).collect();
            roles.sort_unstable();
            for (lower_role, role) in roles {
                if terms.iter().all(|t| account_matches(t) || lower_role.contains(t.as_str())) {
                    rows.push((account, role));
                }
            }
        }
        rows
    }

    /// The accounts whose id or name matches every term of `filter`, in the order of [`rows`].
    ///
    /// [`rows`]: AccountCache::rows
    pub fn accounts_matching(&self, filter: &[String]) -> Vec<&CachedAccount> {
        let terms = lowercase_terms(filter);
        self.sorted_with_lowercase()
            .into_iter()
            .filter(|(_, id, name)| {
                terms.iter().all(|t| id.contains(t.as_str()) || name.contains(t.as_str()))
            })
            .map(|(account, _, _)| account)
            .collect()
    }

    /// The accounts whose id or name contains at least one term of `terms` (case-insensitive),
    /// in the cache's order.
    pub fn accounts_matching_any(&self, terms: &[String]) -> Vec<&CachedAccount> {
        let terms = lowercase_terms(terms);
        self.accounts
            .iter()
            .filter(|a| {
                let (id, name) = (a.account_id.to_lowercase(), a.account_name.to_lowercase());
                terms.iter().any(|t| id.contains(t.as_str()) || name.contains(t.as_str()))
            })
            .collect()
    }

    /// The accounts in display order, each with its lowercase id and name.
    fn sorted_with_lowercase(&self) -> Vec<(&CachedAccount, String, String)> {
        let mut accounts: Vec<(&CachedAccount, String, String)> = self
            .accounts
            .iter()
            .map(|a| (a, a.account_id.to_lowercase(), a.account_name.to_lowercase()))
            .collect();
        accounts.sort_unstable_by(|(a, _, a_name), (b, _, b_name)| {
            a_name
                .cmp(b_name)
                .then_with(|| a.account_id.cmp(&b.account_id))
                .then_with(|| a.account_name.cmp(&b.account_name))
        });
        accounts
    }
}

/// Display order: name (case-insensitive), then id.
pub(crate) fn account_order(a: &CachedAccount, b: &CachedAccount) -> Ordering {
    a.account_name
        .to_lowercase()
        .cmp(&b.account_name.to_lowercase())
        .then_with(|| a.account_id.cmp(&b.account_id))
}

fn lowercase_terms(filter: &[String]) -> Vec<String> {
    filter.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn account(id: &str, name: &str, roles: &[&str]) -> CachedAccount {
        CachedAccount {
            account_id: id.to_owned(),
            account_name: name.to_owned(),
            email_address: Some(format!("{}@example.com", id)),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            roles_fetched_at: Some(ts("2024-05-01T10:00:00Z")),
        }
    }

    fn target(session: Option<&str>) -> SessionTarget {
        SessionTarget {
            session_name: session.map(str::to_owned),
            profile: None,
            start_url: "https://d-abc123.awsapps.com/start".to_owned(),
            region: "eu-west-1".to_owned(),
            scopes: None,
        }
    }

    fn cache(accounts: Vec<CachedAccount>) -> AccountCache {
        AccountCache {
            accounts,
            ..AccountCache::new(&target(Some("corp")), ts("2024-05-01T10:00:00Z"))
        }
    }

    /// Half a minute after the caches of these tests were fetched.
    fn soon() -> Timestamp {
        ts("2024-05-01T10:00:30Z")
    }

    fn org() -> AccountCache {
        cache(vec![
            account("111111111111", "prod", &["ReadOnly", "Admin"]),
            account("222222222222", "Dev", &["Admin"]),
            account("333333333333", "dev-sandbox", &["PowerUser"]),
            account("444444444444", "Shared Services", &[]),
            account("555555555555", "billing", &["Billing"]),
        ])
    }

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn row_text(rows: &[(&CachedAccount, &str)]) -> Vec<String> {
        rows.iter().map(|(a, role)| format!("{} {} {role}", a.account_id, a.account_name)).collect()
    }

    #[test]
    fn the_path_uses_a_safe_session_name_else_its_sha1() {
        let env = Environment::from_pairs([("HOME", "/home/me")]);
        let path = |session: Option<&str>| account_cache_path(&env, &target(session));
        assert_eq!(
            path(Some("corp")),
            Some(PathBuf::from("/home/me/.cache/aws-sso/accounts-corp.json"))
        );
        assert_eq!(
            path(Some("me@corp.example_1-a")),
            Some(PathBuf::from("/home/me/.cache/aws-sso/accounts-me@corp.example_1-a.json"))
        );
        let hashed = format!("/home/me/.cache/aws-sso/accounts-{}.json", sha1_hex("my corp/../x"));
        assert_eq!(path(Some("my corp/../x")), Some(PathBuf::from(hashed)));
        assert_eq!(
            path(Some("..")),
            Some(PathBuf::from(format!(
                "/home/me/.cache/aws-sso/accounts-{}.json",
                sha1_hex("..")
            )))
        );
        // A legacy profile: the start URL, hashed as the token file is.
        assert_eq!(
            path(None),
            Some(PathBuf::from(
                "/home/me/.cache/aws-sso/accounts-40a89917e3175433e361b710a9d43528d7f1890a.json"
            ))
        );
        assert_eq!(account_cache_path(&Environment::default(), &target(Some("corp"))), None);
    }

    #[test]
    fn a_cache_survives_a_round_trip_with_every_kind_of_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("aws-sso").join("accounts-corp.json");
        let mut original = cache(vec![
            account("111111111111", r#"prod "main"; `rm -rf` $HOME"#, &["Admin", "ReadOnly"]),
            account("222222222222", "Entwicklung Zürich ÄÖÜ 東京", &[]),
        ]);
        original.accounts[1].email_address = None;
        original.accounts[1].roles_fetched_at = None;
        assert_eq!(load_account_cache(&path).expect("no file"), None);
        save_account_cache(&path, &original).expect("saved");
        assert_eq!(load_account_cache(&path).expect("read"), Some(original));

        let text = std::fs::read_to_string(&path).expect("read");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["version"], 1);
        assert_eq!(json["ssoSession"], "corp");
        assert_eq!(json["startUrl"], "https://d-abc123.awsapps.com/start");
        assert_eq!(json["region"], "eu-west-1");
        assert_eq!(json["fetchedAt"], "2024-05-01T10:00:00Z");
        assert_eq!(json["accounts"][0]["accountId"], "111111111111");
        assert_eq!(json["accounts"][0]["roles"], serde_json::json!(["Admin", "ReadOnly"]));
        assert_eq!(json["accounts"][0]["rolesFetchedAt"], "2024-05-01T10:00:00Z");
        assert_eq!(json["accounts"][1]["rolesFetchedAt"], serde_json::Value::Null);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn reads_a_file_with_optional_fields_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("accounts-x.json");
        std::fs::write(
            &path,
            r#"{"version":1,"ssoSession":null,"startUrl":"https://s/start","region":"us-east-1",
                "fetchedAt":"2024-05-01T10:00:00.5+02:00","futureField":true,
                "accounts":[{"accountId":"1","accountName":"a"}]}"#,
        )
        .expect("write");
        let read = load_account_cache(&path).expect("valid").expect("present");
        assert_eq!(read.sso_session, None);
        assert_eq!(format_cli(read.fetched_at), "2024-05-01T08:00:00Z");
        assert_eq!(read.accounts[0].roles, Vec::<String>::new());
        assert_eq!(read.accounts[0].roles_fetched_at, None);
        assert_eq!(read.accounts[0].email_address, None);
    }

    #[test]
    fn corrupt_truncated_or_foreign_files_are_corrupt_not_panics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("accounts-corp.json");
        save_account_cache(&path, &org()).expect("saved");
        let whole = std::fs::read(&path).expect("read");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("truncated", whole[..whole.len() / 2].to_vec(), "cut short"),
            ("garbage", b"\x00\xffnot json".to_vec(), "not JSON"),
            ("empty", Vec::new(), "cut short"),
            ("array", b"[]".to_vec(), "not an object"),
            ("wrong type", br#"{"version":1,"accounts":{}}"#.to_vec(), "invalid type: map"),
            ("newer", br#"{"version":2,"shape":"different"}"#.to_vec(), "version 2"),
            (
                "bad time",
                br#"{"version":1,"ssoSession":"corp","startUrl":"u","region":"r","fetchedAt":"yesterday","accounts":[]}"#
                    .to_vec(),
                "fetchedAt is not a timestamp",
            ),
            (
                "no accounts",
                br#"{"version":1,"ssoSession":"corp","startUrl":"u","region":"r","fetchedAt":"2024-05-01T10:00:00Z"}"#
                    .to_vec(),
                "missing field `accounts`",
            ),
        ];
        for (what, bytes, reason) in cases {
            std::fs::write(&path, &bytes).expect("write");
            let err = load_account_cache(&path).expect_err(what);
            assert!(
                matches!(err, CacheError::Corrupt { what: CacheFile::Accounts, .. }),
                "{what}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(reason), "{what}: {text}");
            assert!(text.contains(&path.display().to_string()), "{what}: {text}");
            assert!(text.contains("aws-sso-ls --refresh"), "{what}: {text}");
        }
    }

    #[test]
    fn freshness_follows_the_ttl() {
        let c = org();
        let day = SignedDuration::from_hours(24);
        assert!(c.is_fresh(day, ts("2024-05-01T10:00:00Z")));
        assert!(c.is_fresh(day, ts("2024-05-02T09:59:59Z")));
        assert!(!c.is_fresh(day, ts("2024-05-02T10:00:00Z")));
        assert!(!c.is_fresh(SignedDuration::ZERO, ts("2024-05-01T10:00:00Z")));
        // A clock a minute behind still reads a fresh cache; one a day behind does not.
        assert!(c.is_fresh(day, ts("2024-05-01T09:59:00Z")));
        assert!(!c.is_fresh(day, ts("2024-04-30T10:00:00Z")));
    }

    #[test]
    fn find_account_by_id_name_or_prefix() {
        let c = org();
        let found = |q: &str| c.find_account(q, soon()).map(|a| a.account_id.as_str());
        assert_eq!(found("111111111111"), Ok("111111111111"));
        assert_eq!(found("PROD"), Ok("111111111111"));
        assert_eq!(found(" billing "), Ok("555555555555"));
        assert_eq!(found("4444"), Ok("444444444444"));
        assert_eq!(found("shared"), Ok("444444444444"));
        assert_eq!(found("Shared Serv"), Ok("444444444444"));
        // "dev" is exactly one name, although it also prefixes "dev-sandbox".
        assert_eq!(found("dev"), Ok("222222222222"));
        assert_eq!(found("dev-"), Ok("333333333333"));
        assert_eq!(
            c.roles_of("111111111111"),
            Some(&["ReadOnly".to_owned(), "Admin".to_owned()][..])
        );
        assert_eq!(c.roles_of("444444444444"), Some(&[][..]));
        assert_eq!(c.roles_of("999999999999"), None);
    }

    #[test]
    fn an_exact_lookup_never_takes_a_prefix() {
        let c = cache(vec![account("333333333333", "dev-sandbox", &["Admin"])]);
        assert_eq!(
            c.find_account("dev", soon()).map(|a| a.account_id.as_str()),
            Ok("333333333333")
        );
        assert!(matches!(
            c.find_account_exact("dev", soon()),
            Err(AccountLookupError::NotFound(_))
        ));
        assert!(matches!(
            c.find_account_exact("3333", soon()),
            Err(AccountLookupError::NotFound(_))
        ));
        let found = |q: &str| c.find_account_exact(q, soon()).map(|a| a.account_id.as_str());
        assert_eq!(found("333333333333"), Ok("333333333333"));
        assert_eq!(found("dev-sandbox"), Ok("333333333333"));
        assert_eq!(found(" DEV-Sandbox "), Ok("333333333333"));
        // Twins by case: the name as written picks one, another case is ambiguous.
        let c = cache(vec![
            account("111111111111", "sandbox", &["Admin"]),
            account("122222222222", "Sandbox", &["Admin"]),
        ]);
        let found = |q: &str| c.find_account_exact(q, soon()).map(|a| a.account_id.as_str());
        assert_eq!(found("Sandbox"), Ok("122222222222"));
        assert!(matches!(
            c.find_account_exact("SANDBOX", soon()),
            Err(AccountLookupError::Ambiguous { .. })
        ));
        assert!(matches!(c.find_account_exact("", soon()), Err(AccountLookupError::NotFound(_))));
    }

    #[test]
    fn several_matches_are_ambiguous_and_named() {
        let c = cache(vec![
            account("111111111111", "sandbox", &["Admin"]),
            account("122222222222", "Sandbox", &["Admin"]),
            account("333333333333", "prod-eu", &["Admin"]),
            account("344444444444", "prod-us", &["Admin"]),
        ]);
        let err = c.find_account("SANDBOX", soon()).expect_err("two accounts with that name");
        assert_eq!(
            err,
            AccountLookupError::Ambiguous {
                query: "SANDBOX".to_owned(),
                candidates: vec![
                    "sandbox (111111111111)".to_owned(),
                    "Sandbox (122222222222)".to_owned()
                ],
            }
        );
        assert_eq!(
            err.to_string(),
            "\"SANDBOX\" matches 2 accounts: sandbox (111111111111), Sandbox (122222222222). \
             Name one by its id or whole name, or use more of the name."
        );
        assert!(c.find_account("prod", soon()).is_err());
        assert!(matches!(c.find_account("3", soon()), Err(AccountLookupError::Ambiguous { .. })));
        // The id still picks one of the twins.
        assert_eq!(
            c.find_account("122222222222", soon()).map(|a| a.account_name.as_str()),
            Ok("Sandbox")
        );
        assert_eq!(c.find_account("12", soon()).map(|a| a.account_name.as_str()), Ok("Sandbox"));
    }

    #[test]
    fn an_ambiguous_message_stays_short() {
        let many: Vec<CachedAccount> = (0..25)
            .map(|i| account(&format!("1000000000{i:02}"), &format!("team-{i:02}"), &["Admin"]))
            .collect();
        let err = cache(many).find_account("team", soon()).expect_err("25 matches");
        let text = err.to_string();
        assert!(text.contains("team-00 (100000000000)"), "{text}");
        assert!(text.contains("team-09"), "{text}");
        assert!(!text.contains("team-10"), "{text}");
        assert!(text.contains("and 15 more"), "{text}");
    }

    #[test]
    fn not_found_names_the_closest_and_advises_a_refresh_only_when_the_list_is_old() {
        let c = org();
        // Half a minute old: a fetch could not tell more, so no refresh is advised.
        let err = c.find_account("biling", soon()).expect_err("a typo");
        assert_eq!(
            err.to_string(),
            "No account matches \"biling\" among the 5 accounts of corp (listed less than a \
             minute ago). Closest: billing (555555555555)."
        );
        // A day old: the account may be new.
        let err = c.find_account("payments", ts("2024-05-02T12:00:00Z")).expect_err("none");
        assert_eq!(
            err.to_string(),
            "No account matches \"payments\" among the 5 accounts of corp (listed 26 hours ago). \
             If the account is new, refresh the list: aws-sso-ls --accounts --refresh \
             --sso-session corp"
        );
        // A typo in one word of a longer name is still close.
        let err = c.find_account("servces", soon()).expect_err("a typo");
        assert!(err.to_string().ends_with("Closest: Shared Services (444444444444)."), "{err}");
        assert!(matches!(c.find_account("", soon()), Err(AccountLookupError::NotFound(_))));
        assert!(matches!(c.find_account("999", soon()), Err(AccountLookupError::NotFound(_))));
        let legacy = AccountCache::new(&target(None), ts("2024-05-01T10:00:00Z"));
        let text =
            legacy.find_account("x", ts("2024-05-09T10:00:00Z")).expect_err("empty").to_string();
        assert!(
            text.contains("accounts of https://d-abc123.awsapps.com/start (listed 8 days ago)"),
            "{text}"
        );
        assert!(text.ends_with("aws-sso-ls --accounts --refresh"), "{text}");
    }

    #[test]
    fn any_part_of_a_name_finds_an_account_when_it_names_one() {
        let c = cache(vec![
            account("100000000001", "acme-staging", &["Admin"]),
            account("100000000002", "acme-staging2", &["Admin"]),
            account("100000000003", "acme-prod", &["Admin"]),
            account("100000000004", "acme-production", &["Admin"]),
            account("100000000005", "corp_billing.eu", &["Admin"]),
            account("010000000006", "acme-payments", &["Admin"]),
        ]);
        let found = |q: &str| c.find_account(q, soon()).map(|a| a.account_name.as_str());
        // A part found in one name only.
        assert_eq!(found("payments"), Ok("acme-payments"));
        assert_eq!(found("BILLING"), Ok("corp_billing.eu"));
        assert_eq!(found("ing.e"), Ok("corp_billing.eu"));
        // In two names, but a whole word of one only.
        assert_eq!(found("staging"), Ok("acme-staging"));
        assert_eq!(found("prod"), Ok("acme-prod"));
        // A leading zero is part of the id, never lost.
        assert_eq!(
            c.find_account("0100", soon()).map(|a| a.account_id.as_str()),
            Ok("010000000006")
        );
        // A word of every name: ambiguous, and every account containing it is a candidate.
        let err = c.find_account("acme", soon()).expect_err("five accounts");
        let AccountLookupError::Ambiguous { candidates, .. } = &err else { panic!("{err}") };
        assert_eq!(candidates.len(), 5, "{err}");
        assert!(
            err.to_string().starts_with(
                "\"acme\" matches 5 accounts: acme-payments (010000000006), acme-prod"
            ),
            "{err}"
        );
        // A part of two names, a word of neither.
        let err = c.find_account("stag", soon()).expect_err("two accounts");
        assert!(
            matches!(err, AccountLookupError::Ambiguous { ref candidates, .. } if candidates.len() == 2),
            "{err}"
        );
    }

    #[test]
    fn hostile_queries_are_shown_printable() {
        let err = org().find_account("x\u{1b}]0;pwned\u{7}", soon()).expect_err("none");
        assert!(!err.to_string().contains('\u{1b}'), "{err}");
    }

    #[test]
    fn rows_are_sorted_and_keep_accounts_without_roles() {
        let org = org();
        let rows = org.rows(&[]);
        assert_eq!(
            row_text(&rows),
            [
                "555555555555 billing Billing",
                "222222222222 Dev Admin",
                "333333333333 dev-sandbox PowerUser",
                "111111111111 prod Admin",
                "111111111111 prod ReadOnly",
                "444444444444 Shared Services ",
            ]
        );
    }

    #[test]
    fn every_filter_term_must_match_id_name_or_role() {
        let c = org();
        let rows = |words: &[&str]| row_text(&c.rows(&terms(words)));
        assert_eq!(
            rows(&["dev"]),
            ["222222222222 Dev Admin", "333333333333 dev-sandbox PowerUser"]
        );
        assert_eq!(rows(&["DEV", "admin"]), ["222222222222 Dev Admin"]);
        assert_eq!(rows(&["admin"]), ["222222222222 Dev Admin", "111111111111 prod Admin"]);
        assert_eq!(rows(&["1111", "read"]), ["111111111111 prod ReadOnly"]);
        assert_eq!(rows(&["prod", "power"]), Vec::<String>::new());
        assert_eq!(rows(&["services"]), ["444444444444 Shared Services "]);
        assert_eq!(rows(&["services", "admin"]), Vec::<String>::new());
        // Blank terms are no filter at all.
        assert_eq!(rows(&["", "  "]).len(), 6);
    }

    #[test]
    fn filters_fold_the_case_of_non_ascii_names() {
        let c = cache(vec![
            account("111111111111", "Entwicklung ZÜRICH", &["Admin"]),
            account("222222222222", "Ärzte-Portal", &["Admin"]),
            account("333333333333", "zeta", &["Admin"]),
            account("444444444444", "alpha", &["Admin"]),
        ]);
        let rows = |words: &[&str]| row_text(&c.rows(&terms(words)));
        assert_eq!(rows(&["zürich"]), ["111111111111 Entwicklung ZÜRICH Admin"]);
        assert_eq!(rows(&["ärzte"]), ["222222222222 Ärzte-Portal Admin"]);
        assert_eq!(
            c.find_account("ärz", soon()).map(|a| a.account_id.as_str()),
            Ok("222222222222")
        );
        let ids: Vec<&str> =
            c.accounts_matching(&[]).iter().map(|a| a.account_id.as_str()).collect();
        assert_eq!(ids, ["444444444444", "111111111111", "333333333333", "222222222222"]);
    }

    #[test]
    fn accounts_matching_looks_at_ids_and_names_only() {
        let c = org();
        let names = |words: &[&str]| -> Vec<String> {
            c.accounts_matching(&terms(words)).iter().map(|a| a.account_name.clone()).collect()
        };
        assert_eq!(names(&["dev"]), ["Dev", "dev-sandbox"]);
        assert_eq!(names(&["admin"]), Vec::<String>::new());
        assert_eq!(names(&["5555"]), ["billing"]);
        assert_eq!(names(&[]).len(), 5);
    }

    #[test]
    fn a_cache_knows_its_session_and_the_accounts_missing_roles() {
        let mut c = org();
        assert!(c.is_for(&target(Some("corp"))));
        assert!(!c.is_for(&target(Some("other"))));
        assert!(!c.is_for(&target(None)));
        assert!(c.accounts_without_roles_fetched().is_empty());
        c.accounts[2].roles_fetched_at = None;
        let missing: Vec<String> =
            c.accounts_without_roles_fetched().iter().map(|a| a.label()).collect();
        assert_eq!(missing, ["dev-sandbox (333333333333)"]);
    }
}
