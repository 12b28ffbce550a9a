//! Tab-completion candidates: sessions and profiles from `~/.aws/config`, accounts and roles from
//! the account cache.
//!
//! Completion runs on every Tab, so it only reads local files: never the network, never a
//! prompt, never a line on the terminal. Anything that goes wrong (no config, no cache, a corrupt
//! file, an ambiguous session) gives no candidates rather than an error: a shell has nowhere to
//! show one, and the command itself explains the problem once it runs.

use crate::cache::accounts::{AccountCache, CachedAccount};
use crate::env::Environment;
use crate::resolve;
use crate::session::{self, Context, SessionError, SessionRequest};

/// One word the shell may offer, with a short description some shells show beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    pub help: Option<String>,
}

impl Candidate {
    fn new(value: &str, help: Option<&str>) -> Self {
        Self { value: value.to_owned(), help: help.map(str::to_owned) }
    }
}

/// Every `[sso-session NAME]` of the config that starts with `current`.
pub fn sso_sessions(env: Environment, current: &str) -> Vec<Candidate> {
    let Ok(ctx) = Context::load(env, None) else { return Vec::new() };
    ctx.config
        .sso_sessions()
        .filter(|s| s.name().starts_with(current))
        .map(|s| Candidate::new(s.name(), s.get("sso_start_url")))
        .collect()
}

/// Every profile of the config and credentials files that starts with `current`.
pub fn profiles(env: Environment, current: &str) -> Vec<Candidate> {
    let Ok(ctx) = Context::load(env, None) else { return Vec::new() };
    let mut names: Vec<Candidate> = ctx
        .config
        .profiles()
        .filter(|p| p.name().starts_with(current))
        .map(|p| Candidate::new(p.name(), p.get("sso_session").or(p.get("sso_account_id"))))
        .collect();
    names.sort_by(|a, b| a.value.cmp(&b.value));
    names
}

/// The cached accounts of the session `request` means, by name and by id, whose name (ignoring
/// case) or id starts with `current`. Names come first, sorted as `aws-sso-ls` sorts them; each
/// name's description is its id and each id's is its name. When several sessions are configured
/// and nothing chooses one, the accounts of every logged-in session are offered, each
/// description naming its session: the account chosen then chooses the session.
pub fn accounts(env: Environment, request: &SessionRequest, current: &str) -> Vec<Candidate> {
    let lower = current.to_lowercase();
    let caches = caches_of(env, request);
    let mut accounts: Vec<(&CachedAccount, Option<&str>)> = caches
        .iter()
        .flat_map(|(label, cache)| cache.accounts.iter().map(move |a| (a, label.as_deref())))
        .collect();
    accounts.sort_by(|(a, _), (b, _)| {
        a.account_name
            .to_lowercase()
            .cmp(&b.account_name.to_lowercase())
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let help = |text: &str, session: Option<&str>| match session {
        Some(session) => format!("{text} ({session})"),
        None => text.to_owned(),
    };
    let names = accounts
        .iter()
        .filter(|(a, _)| a.account_name.to_lowercase().starts_with(&lower))
        .map(|(a, s)| Candidate::new(&a.account_name, Some(&help(&a.account_id, *s))));
    let mut ids: Vec<_> =
        accounts.iter().filter(|(a, _)| a.account_id.starts_with(current)).collect();
    ids.sort_by(|(a, _), (b, _)| a.account_id.cmp(&b.account_id));
    let ids = ids
        .into_iter()
        .map(|(a, s)| Candidate::new(&a.account_id, Some(&help(&a.account_name, *s))));
    let mut out: Vec<Candidate> = names.chain(ids).collect();
    // Two accounts may share a name: the shell needs the word once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.value.clone()));
    out
}

/// The cached roles of `account` (an id, a name or a part of one, as `aws-sso-env` takes it)
/// that start with `current`, ignoring case. None when the account is unknown or ambiguous, or is
/// in the caches of several sessions.
pub fn roles(
    env: Environment,
    request: &SessionRequest,
    account: &str,
    current: &str,
) -> Vec<Candidate> {
    let now = jiff::Timestamp::now();
    let caches = caches_of(env, request);
    let mut found = caches.iter().filter_map(|(_, cache)| cache.find_account(account, now).ok());
    let (Some(found), None) = (found.next(), found.next()) else { return Vec::new() };
    let lower = current.to_lowercase();
    found
        .roles
        .iter()
        .filter(|r| r.to_lowercase().starts_with(&lower))
        .map(|r| Candidate::new(r, Some(&found.account_name)))
        .collect()
}

/// Every row of the cache, as `aws-sso-ls` FILTER terms: account names, ids and role names
/// starting with `current` (ignoring case), each word once.
pub fn filter_terms(env: Environment, request: &SessionRequest, current: &str) -> Vec<Candidate> {
    let caches = caches_of(env.clone(), request);
    let mut out = accounts(env, request, current);
    let lower = current.to_lowercase();
    let mut roles: Vec<&str> = caches
        .iter()
        .flat_map(|(_, cache)| &cache.accounts)
        .flat_map(|a| a.roles.iter().map(String::as_str))
        .filter(|r| r.to_lowercase().starts_with(&lower))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let known: std::collections::HashSet<String> = out.iter().map(|c| c.value.clone()).collect();
    out.extend(
        roles.into_iter().filter(|r| !known.contains(*r)).map(|r| Candidate::new(r, Some("role"))),
    );
    out
}

/// The account cache of the session `request` means (no label); when several sessions are
/// configured and nothing chooses one, the cache of every session that is logged in (its login
/// usable or refreshable), each labelled with the session's name.
fn caches_of(env: Environment, request: &SessionRequest) -> Vec<(Option<String>, AccountCache)> {
    let Ok(ctx) = Context::load(env, request.profile.as_deref()) else { return Vec::new() };
    let request = resolve::in_current_project(&ctx, request.clone());
    match session::resolve(&ctx, &request) {
        Ok(target) => resolve::usable_cache(&ctx, &target).map(|c| (None, c)).into_iter().collect(),
        Err(crate::Error::Session(SessionError::Ambiguous { .. })) => {
            session::logged_in_sessions(&ctx)
                .into_iter()
                .filter_map(|target| {
                    let cache = resolve::usable_cache(&ctx, &target)?;
                    Some((target.session_name.clone(), cache))
                })
                .collect()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(candidates: &[Candidate]) -> Vec<&str> {
        candidates.iter().map(|c| c.value.as_str()).collect()
    }

    fn env_with_config(text: &str) -> (tempfile::TempDir, Environment) {
        let home = tempfile::tempdir().expect("tempdir");
        let config = home.path().join("config");
        std::fs::write(&config, text).expect("write config");
        let env = Environment::from_pairs([
            ("HOME", home.path().to_str().expect("utf-8 path")),
            ("AWS_CONFIG_FILE", config.to_str().expect("utf-8 path")),
        ]);
        (home, env)
    }

    #[test]
    fn sessions_and_profiles_come_from_the_config() {
        let (_home, env) = env_with_config(
            "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
             [sso-session lab]\nsso_start_url = https://lab.awsapps.com/start\nsso_region = us-east-1\n\
             [profile dev]\nsso_session = corp\n[default]\nregion = eu-west-1\n",
        );
        assert_eq!(values(&sso_sessions(env.clone(), "")), ["corp", "lab"]);
        assert_eq!(values(&sso_sessions(env.clone(), "l")), ["lab"]);
        assert_eq!(values(&profiles(env.clone(), "")), ["default", "dev"]);
        assert_eq!(values(&profiles(env, "de")), ["default", "dev"]);
    }

    #[test]
    fn a_missing_config_or_cache_gives_nothing() {
        let (_home, env) = env_with_config("");
        assert!(sso_sessions(env.clone(), "").is_empty());
        assert!(accounts(env.clone(), &SessionRequest::default(), "").is_empty());
        assert!(roles(env, &SessionRequest::default(), "prod", "").is_empty());
    }
}
