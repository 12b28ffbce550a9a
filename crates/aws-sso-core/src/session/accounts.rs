//! The accounts and roles a login reaches, in two levels (docs/ARCHITECTURE.md §3 and §5): the
//! account index (one paged ListAccounts) and the roles of each account (one ListAccountRoles
//! each), each with its own fetch time. A caller asks for the roles it needs — every account's
//! for a listing, one account's for a name — and only what the cache lacks is fetched, then
//! merged into the cache under its lock.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};

use super::Context;
use super::token::{TokenState, expired_error, not_logged_in, read_token, valid_token};
use crate::cache::accounts::{
    AccountCache, CachedAccount, account_cache_path, load_account_cache, save_account_cache,
};
use crate::cache::locks::account_cache_lock_path;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::FileLock;
use crate::portal::AccountInfo;
use crate::portal::listing::{
    FailedAccount, Listing, ListingOptions, ListingProgress, list_index, list_roles, merge_index,
    merge_roles,
};
use crate::target::{SessionError, SessionTarget};

/// What a listing or a name lookup asks of the account cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountsRequest {
    /// Fetch the account index even when it is fresh.
    pub refresh_index: bool,
    /// Fetch the wanted roles even when they are fresh.
    pub refresh_roles: bool,
    /// Whose roles are needed.
    pub roles: RolesWanted,
}

impl AccountsRequest {
    /// Everything, fetched again when `refresh`, else as the cache allows: `aws-sso-ls`.
    pub fn everything(refresh: bool) -> Self {
        Self { refresh_index: refresh, refresh_roles: refresh, roles: RolesWanted::All }
    }
}

/// Whose roles a caller needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RolesWanted {
    /// None: the index alone (`aws-sso-ls --accounts`, a name lookup).
    #[default]
    None,
    /// Every account's.
    All,
    /// Those of the accounts whose id or name contains one of these terms (case-insensitive):
    /// `aws-sso-ls FILTER`. When no account matches any term, the terms can only name roles,
    /// and every account's roles are needed.
    Matching(Vec<String>),
    /// Those of these account ids.
    Of(Vec<String>),
}

impl RolesWanted {
    /// The accounts of `cache` whose roles are wanted.
    fn accounts<'a>(&self, cache: &'a AccountCache) -> Vec<&'a CachedAccount> {
        match self {
            RolesWanted::None => Vec::new(),
            RolesWanted::All => cache.accounts.iter().collect(),
            RolesWanted::Matching(terms) => {
                let matched = cache.accounts_matching_any(terms);
                if matched.is_empty() { cache.accounts.iter().collect() } else { matched }
            }
            RolesWanted::Of(ids) => {
                cache.accounts.iter().filter(|a| ids.contains(&a.account_id)).collect()
            }
        }
    }
}

/// Where a listing came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountsSource {
    /// Fetched (at least in part) from the portal now, and cached.
    Fetched,
    /// The cache, fresh.
    Cache,
    /// The cache, past its TTL, because no valid token was at hand to refresh it.
    StaleCache,
}

/// The accounts of a session, and what the user should know about them.
#[derive(Debug)]
pub struct Accounts {
    pub cache: AccountCache,
    pub source: AccountsSource,
    /// Accounts whose roles could not be fetched now; their previous roles, if any, are kept.
    pub failed: Vec<FailedAccount>,
    /// Portal requests made, and 429s met, by a fetch.
    pub requests: usize,
    pub throttled: usize,
    /// Why the login cannot be used now, when the listing came from the cache for that reason
    /// (or a fresh cache was used while the login has expired).
    pub login_problem: Option<String>,
}

/// The accounts of `target`, with the roles `request` wants: from the account cache as far as it
/// is fresh (TTL from config.yaml, for the index and for each account's roles apart), the rest
/// fetched from the portal and merged into the cache. With no valid login, a cache of any age is
/// still answered (and the caller says why); with neither, the error says how to log in.
pub async fn accounts(
    ctx: &Context,
    target: &SessionTarget,
    request: AccountsRequest,
    progress: &mut dyn ListingProgress,
) -> Result<Accounts> {
    let now = Timestamp::now();
    let ttl = ctx.settings.account_cache_ttl();
    let path = account_cache_path(&ctx.env, target);
    // A cache of another start URL (the session was edited) tells nothing about this one.
    let cached = load(path.as_deref()).filter(|c| c.is_for(target));
    let index_fresh =
        !request.refresh_index && cached.as_ref().is_some_and(|c| c.is_fresh(ttl, now));
    let missing = |cache: &AccountCache| -> Vec<String> {
        request
            .roles
            .accounts(cache)
            .into_iter()
            .filter(|a| request.refresh_roles || !roles_fresh(a, ttl, now))
            .map(|a| a.account_id.clone())
            .collect()
    };
    if index_fresh
        && let Some(cache) = cached.as_ref()
        && missing(cache).is_empty()
    {
        let login_problem = match read_token(ctx, target) {
            TokenState::Present(t) if t.remaining(now) > SignedDuration::ZERO => None,
            TokenState::Present(t) if t.is_refreshable(now) => None,
            TokenState::Present(t) => Some(expired_error(target, &t).to_string()),
            _ => Some(not_logged_in(target).to_string()),
        };
        return Ok(Accounts {
            cache: cached.expect("checked above"),
            source: AccountsSource::Cache,
            failed: Vec::new(),
            requests: 0,
            throttled: 0,
            login_problem,
        });
    }
    let token = match valid_token(ctx, target).await {
        Ok(token) => token,
        // A refresh that may pass later leaves the cached list as good as a lapsed login does.
        Err(e)
            if !(request.refresh_index || request.refresh_roles)
                && (e.kind() == ErrorKind::NotLoggedIn
                    || matches!(e, crate::Error::Session(SessionError::RefreshFailed { .. }))) =>
        {
            match cached {
                Some(cache) => {
                    return Ok(Accounts {
                        cache,
                        source: AccountsSource::StaleCache,
                        failed: Vec::new(),
                        requests: 0,
                        throttled: 0,
                        login_problem: Some(e.to_string()),
                    });
                }
                None => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let options = ListingOptions::from_settings(&ctx.settings);
    // One limiter for the index and the roles: together they stay within the service's rate.
    let portal = options.limited(&ctx.portal_client(target)?);
    let mut cache = match cached {
        Some(cache) if index_fresh => cache,
        _ => {
            let index = list_index(&portal, &token.access_token).await.map_err(|error| {
                Error::AccountIndex {
                    session: target.display_name(),
                    target: Box::new(target.clone()),
                    looking_for: None,
                    error: Box::new(error),
                }
            })?;
            let fetched_at = Timestamp::now();
            save_merged(ctx, target, path.as_deref(), |previous| {
                merge_index(previous, &index, target, fetched_at)
            })?
        }
    };
    let wanted: HashSet<String> = missing(&cache).into_iter().collect();
    let mut failed = Vec::new();
    if !wanted.is_empty() {
        progress.accounts_listed(wanted.len());
        let infos = cache
            .accounts
            .iter()
            .filter(|a| wanted.contains(&a.account_id))
            .map(|a| AccountInfo {
                account_id: a.account_id.clone(),
                account_name: a.account_name.clone(),
                email_address: a.email_address.clone(),
            })
            .collect();
        tracing::debug!("fetching the roles of {} accounts", wanted.len());
        let listing = list_roles(&portal, &token.access_token, infos, &options, progress).await;
        let fetched_at = Timestamp::now();
        cache = save_merged(ctx, target, path.as_deref(), |previous| {
            // The cache as it is now: another process may have merged its own fetch meanwhile.
            let mut merged = match previous {
                Some(p) => p.clone(),
                None => cache.clone(),
            };
            merge_roles(&mut merged, &listing, fetched_at);
            merged
        })?;
        failed = listing.failed;
    }
    Ok(Accounts {
        cache,
        source: AccountsSource::Fetched,
        failed,
        requests: portal.http().attempts(),
        throttled: portal.http().throttled(),
        login_problem: None,
    })
}

/// The roles of `account_ids`, fetched now (concurrently, under the configured rate) and not
/// saved: for a caller that shows them as they come and saves them once with
/// [`save_fetched_roles`].
pub async fn fetch_roles(
    ctx: &Context,
    target: &SessionTarget,
    accounts: Vec<AccountInfo>,
) -> Result<Listing> {
    let token = valid_token(ctx, target).await?;
    let options = ListingOptions::from_settings(&ctx.settings);
    let portal = options.limited(&ctx.portal_client(target)?);
    Ok(list_roles(&portal, &token.access_token, accounts, &options, &mut ()).await)
}

/// Merges roles fetched by [`fetch_roles`] (at `fetched_at`) into the account cache, under its
/// lock.
pub fn save_fetched_roles(
    ctx: &Context,
    target: &SessionTarget,
    listings: &[&Listing],
    fetched_at: Timestamp,
) -> Result<AccountCache> {
    let path = account_cache_path(&ctx.env, target);
    save_merged(ctx, target, path.as_deref(), |previous| {
        // Roles need their accounts: without an index there is nothing to add them to.
        let mut merged = previous.cloned().unwrap_or_else(|| AccountCache::new(target, fetched_at));
        for listing in listings {
            merge_roles(&mut merged, listing, fetched_at);
        }
        merged
    })
}

/// Roles fetched less than `ttl` ago.
fn roles_fresh(account: &CachedAccount, ttl: SignedDuration, now: Timestamp) -> bool {
    account.roles_fetched_at.is_some_and(|at| now.duration_since(at) < ttl)
}

fn load(path: Option<&std::path::Path>) -> Option<AccountCache> {
    match path.map(load_account_cache) {
        Some(Ok(cache)) => cache,
        Some(Err(e)) => {
            tracing::warn!("{e}");
            None
        }
        None => None,
    }
}

/// Reads the cache again under its lock, applies `merge` to it (`None` when there is none or it
/// is another session's) and writes the result; returns it. Without a cache directory the merge
/// is only returned. A lock that cannot be created (read-only home) does not stop the fetch: the
/// merge is then done without it, and the write says what is wrong.
fn save_merged(
    ctx: &Context,
    target: &SessionTarget,
    path: Option<&std::path::Path>,
    merge: impl FnOnce(Option<&AccountCache>) -> AccountCache,
) -> Result<AccountCache> {
    let Some(path) = path else { return Ok(merge(None)) };
    let _lock = match FileLock::acquire(&account_cache_lock_path(&ctx.env, path)) {
        Ok(lock) => Some(lock),
        Err(e) if e.cannot_create() => {
            tracing::warn!("{e}; updating the account cache without the lock");
            None
        }
        Err(e) => return Err(e.into()),
    };
    // Read quietly: a file that cannot be understood was reported when it was first read.
    let previous = load_account_cache(path).ok().flatten().filter(|c| c.is_for(target));
    let merged = merge(previous.as_ref());
    save_account_cache(path, &merged)?;
    Ok(merged)
}
