//! The accounts and roles a login reaches: from the account cache while it is fresh, else from
//! the portal (and cached).

use jiff::{SignedDuration, Timestamp};

use super::Context;
use super::token::{TokenState, expired_error, not_logged_in, read_token, valid_token};
use crate::cache::accounts::{
    AccountCache, account_cache_path, load_account_cache, save_account_cache,
};
use crate::error::{ErrorKind, Result};
use crate::portal::listing::{
    FailedAccount, ListingOptions, ListingProgress, list_everything, merge_into_cache,
};
use crate::target::{SessionError, SessionTarget};

/// What `aws-sso-ls` (and name lookups) asked of the account cache.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccountsRequest {
    /// Refetch even when the cache is fresh.
    pub refresh: bool,
    /// Accounts only: one paged ListAccounts, no per-account calls.
    pub accounts_only: bool,
}

/// Where a listing came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountsSource {
    /// Fetched from the portal now (and cached).
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

/// The accounts and roles of `target`: from the account cache while it is fresh (docs/ARCHITECTURE.md §3,
/// TTL from config.yaml), else fetched from the portal and cached. With no valid login, a cache
/// of any age is still listed (and the caller says why); with neither, the error says how to
/// log in.
pub async fn accounts(
    ctx: &Context,
    target: &SessionTarget,
    request: AccountsRequest,
    progress: &mut dyn ListingProgress,
) -> Result<Accounts> {
    let now = Timestamp::now();
    let path = account_cache_path(&ctx.env, target);
    let mut cached = match path.as_deref().map(load_account_cache) {
        Some(Ok(cache)) => cache,
        Some(Err(e)) => {
            tracing::warn!("{e}");
            None
        }
        None => None,
    };
    let complete = |c: &AccountCache| {
        request.accounts_only || c.accounts.iter().all(|a| a.roles_fetched_at.is_some())
    };
    // A cache of another start URL (the session was edited) tells nothing about this one.
    let fresh = cached.as_ref().is_some_and(|c| {
        c.is_for(target) && c.is_fresh(ctx.settings.account_cache_ttl(), now) && complete(c)
    });
    if fresh
        && !request.refresh
        && let Some(cache) = cached.take()
    {
        let login_problem = match read_token(ctx, target) {
            TokenState::Present(t) if t.remaining(now) > SignedDuration::ZERO => None,
            TokenState::Present(t) if t.is_refreshable(now) => None,
            TokenState::Present(t) => Some(expired_error(target, &t).to_string()),
            _ => Some(not_logged_in(target).to_string()),
        };
        return Ok(Accounts {
            cache,
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
            if !request.refresh
                && (e.kind() == ErrorKind::NotLoggedIn
                    || matches!(e, crate::Error::Session(SessionError::RefreshFailed { .. }))) =>
        {
            match cached {
                Some(cache) if cache.is_for(target) => {
                    return Ok(Accounts {
                        cache,
                        source: AccountsSource::StaleCache,
                        failed: Vec::new(),
                        requests: 0,
                        throttled: 0,
                        login_problem: Some(e.to_string()),
                    });
                }
                _ => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let portal = ctx.portal_client(target)?;
    let options = ListingOptions {
        accounts_only: request.accounts_only,
        ..ListingOptions::from_settings(&ctx.settings)
    };
    let listing = list_everything(&portal, &token.access_token, &options, progress).await?;
    let cache = merge_into_cache(cached.as_ref(), &listing, target, Timestamp::now());
    if let Some(path) = &path {
        save_account_cache(path, &cache)?;
    }
    Ok(Accounts {
        cache,
        source: AccountsSource::Fetched,
        failed: listing.failed,
        requests: listing.requests,
        throttled: listing.throttled,
        login_problem: None,
    })
}
