//! Every account a token reaches and the roles in each (docs/ARCHITECTURE.md §5): ListAccounts paged at
//! 100, then ListAccountRoles for every account concurrently under one rate limiter; and how a
//! listing updates the account cache without losing what a failed refresh could not fetch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use tokio::task::JoinSet;

use super::{AccountInfo, PortalClient};
use crate::cache::accounts::{AccountCache, CachedAccount, account_order};
use crate::config::settings::Settings;
use crate::http::HttpError;
use crate::http::{DEFAULT_REQUESTS_PER_SECOND, RateLimiter};
use crate::secret::Secret;
use crate::target::SessionTarget;

/// Role listings in flight at once, unless configured.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Told how a listing advances, e.g. to draw a progress bar. Both methods do nothing by default.
pub trait ListingProgress: Send {
    /// The roles of `total` accounts are about to be fetched; `account_done` follows once for
    /// each. (Not called when no role is fetched.)
    fn accounts_listed(&mut self, total: usize) {
        let _ = total;
    }

    /// The roles of one more account are fetched, or failed.
    fn account_done(&mut self, done: usize, total: usize) {
        let _ = (done, total);
    }
}

/// No progress to show.
impl ListingProgress for () {}

/// How to list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingOptions {
    /// Requests per second for the whole listing, retries included; `None` or 0: no limit.
    pub rate_limit: Option<f64>,
    /// Role listings in flight at once (at least 1).
    pub concurrency: usize,
    /// Lists the accounts only (one paged call), not their roles.
    pub accounts_only: bool,
}

impl Default for ListingOptions {
    fn default() -> Self {
        Self {
            rate_limit: Some(DEFAULT_REQUESTS_PER_SECOND),
            concurrency: DEFAULT_CONCURRENCY,
            accounts_only: false,
        }
    }
}

impl ListingOptions {
    /// `portal` with one fresh limiter at `rate_limit` for everything sent through it: every
    /// request of a listing, retries included, waits on it.
    pub fn limited(&self, portal: &PortalClient) -> PortalClient {
        portal.with_rate_limiter(Some(Arc::new(RateLimiter::new(self.rate_limit))))
    }

    /// The defaults with `rate_limit` and `concurrency` of `config.yaml` applied.
    pub fn from_settings(settings: &Settings) -> Self {
        let defaults = Self::default();
        Self {
            rate_limit: settings.rate_limit.or(defaults.rate_limit),
            concurrency: settings.concurrency.unwrap_or(defaults.concurrency).max(1),
            accounts_only: false,
        }
    }
}

/// An account of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedAccount {
    pub account: AccountInfo,
    /// Sorted role names; `None` when they were not fetched (`accounts_only`) or the fetch
    /// failed (the account is then in [`Listing::failed`] too).
    pub roles: Option<Vec<String>>,
}

/// An account whose roles could not be fetched, even after retries.
#[derive(Debug)]
pub struct FailedAccount {
    pub account_id: String,
    pub account_name: String,
    pub error: HttpError,
}

impl FailedAccount {
    /// `Name (123456789012)`, as messages name an account.
    pub fn label(&self) -> String {
        format!("{} ({})", self.account_name, self.account_id)
    }
}

/// What a listing found.
#[derive(Debug)]
pub struct Listing {
    /// Every account, in the order the portal listed them, each once.
    pub accounts: Vec<ListedAccount>,
    /// The accounts whose roles are missing, in the same order.
    pub failed: Vec<FailedAccount>,
    /// Requests sent, retries included.
    pub requests: usize,
    /// Throttling answers (429) met, each retried.
    pub throttled: usize,
}

impl Listing {
    /// Every account has its roles (or only accounts were asked for).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// The token stopped working part way: a new login is needed to finish.
    pub fn session_expired(&self) -> bool {
        self.failed.iter().any(|f| f.error.is_unauthorized())
    }
}

/// A page of ListAccounts that failed, even after its retries: the whole index fails with it,
/// since a name may be on any page.
#[derive(Debug, thiserror::Error)]
#[error(
    "page {page} of the account list could not be fetched ({listed} accounts were read before it): {error}"
)]
pub struct IndexError {
    /// 1-based.
    pub page: usize,
    /// Accounts read on the pages before it.
    pub listed: usize,
    #[source]
    pub error: HttpError,
}

impl IndexError {
    /// The token stopped working: a new login is needed.
    pub fn is_unauthorized(&self) -> bool {
        self.error.is_unauthorized()
    }
}

/// Lists every account, then the roles of each, concurrently under one rate limiter.
///
/// [`list_index`] then [`list_roles`] of every account, sharing one limiter at
/// `options.rate_limit`, which replaces any limiter the portal client had.
pub async fn list_everything(
    portal: &PortalClient,
    token: &Secret,
    options: &ListingOptions,
    progress: &mut dyn ListingProgress,
) -> Result<Listing, IndexError> {
    let portal = options.limited(portal);
    let accounts = list_index(&portal, token).await?;
    if options.accounts_only {
        return Ok(Listing {
            accounts: accounts
                .into_iter()
                .map(|account| ListedAccount { account, roles: None })
                .collect(),
            failed: Vec::new(),
            requests: portal.http().attempts(),
            throttled: portal.http().throttled(),
        });
    }
    progress.accounts_listed(accounts.len());
    Ok(list_roles(&portal, token, accounts, options, progress).await)
}

/// The account index: every page of ListAccounts (100 accounts a page), each account once. A page
/// that fails after its retries fails the index, saying which page.
pub async fn list_index(
    portal: &PortalClient,
    token: &Secret,
) -> Result<Vec<AccountInfo>, IndexError> {
    let mut accounts = Vec::new();
    let mut next: Option<String> = None;
    for page in 1.. {
        let fail = |error| IndexError { page, listed: accounts.len(), error };
        let (found, following) = portal
            .list_accounts_page(token, next.as_deref(), Some(super::PAGE_SIZE))
            .await
            .map_err(fail)?;
        accounts.extend(found);
        next = portal
            .next_page(super::LIST_ACCOUNTS, "/assignment/accounts", next, following)
            .map_err(|error| IndexError { page, listed: accounts.len(), error })?;
        if next.is_none() {
            break;
        }
    }
    Ok(distinct(accounts))
}

/// The roles of each of `accounts`, concurrently (`options.concurrency` in flight) through
/// `portal`, whose rate limiter every request and retry waits on.
///
/// A failure of one account's roles, after its retries, is recorded in [`Listing::failed`] and the
/// listing goes on. Once the portal answers 401 the token is dead: no more requests are sent, and
/// the accounts not yet fetched fail with that same error, which says to run `aws-sso-login`.
/// `progress.account_done` counts up to `accounts.len()`.
pub async fn list_roles(
    portal: &PortalClient,
    token: &Secret,
    accounts: Vec<AccountInfo>,
    options: &ListingOptions,
    progress: &mut dyn ListingProgress,
) -> Listing {
    let total = accounts.len();
    let token = Arc::new(token.clone());
    let mut results: Vec<Option<Result<Vec<String>, HttpError>>> =
        std::iter::repeat_with(|| None).take(total).collect();
    let mut tasks = JoinSet::new();
    let mut next = 0;
    let mut done = 0;
    let mut expired = None;
    loop {
        while expired.is_none() && next < total && tasks.len() < options.concurrency.max(1) {
            let (portal, token) = (portal.clone(), Arc::clone(&token));
            let account_id = accounts[next].account_id.clone();
            let index = next;
            tasks.spawn(
                async move { (index, portal.list_account_roles(&token, &account_id).await) },
            );
            next += 1;
        }
        let Some(joined) = tasks.join_next().await else { break };
        let (index, result) = match joined {
            Ok(answer) => answer,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only an aborted task is cancelled, and nothing aborts these.
            Err(_) => continue,
        };
        let result = result.map(|roles| {
            let mut names: Vec<String> = roles.into_iter().map(|r| r.role_name).collect();
            names.sort_unstable();
            names.dedup();
            names
        });
        if expired.is_none()
            && let Err(error @ HttpError::Service(e)) = &result
            && error.is_unauthorized()
        {
            tracing::debug!(account = %accounts[index].account_id, "the token expired mid-listing");
            expired = Some(e.clone());
        }
        results[index] = Some(result);
        done += 1;
        progress.account_done(done, total);
    }
    // Accounts never asked for because the token had expired fail with the portal's own answer.
    for slot in results.iter_mut().filter(|r| r.is_none()) {
        if let Some(e) = &expired {
            *slot = Some(Err(HttpError::Service(e.clone())));
            done += 1;
            progress.account_done(done, total);
        }
    }

    let mut listed = Vec::with_capacity(total);
    let mut failed = Vec::new();
    for (account, result) in accounts.into_iter().zip(results) {
        match result {
            Some(Ok(roles)) => listed.push(ListedAccount { account, roles: Some(roles) }),
            Some(Err(error)) => {
                failed.push(FailedAccount {
                    account_id: account.account_id.clone(),
                    account_name: account.account_name.clone(),
                    error,
                });
                listed.push(ListedAccount { account, roles: None });
            }
            // Only a cancelled task leaves a slot empty; the account is then reported, not lost.
            None => {
                failed.push(FailedAccount {
                    account_id: account.account_id.clone(),
                    account_name: account.account_name.clone(),
                    error: HttpError::Setup {
                        detail: "the listing of its roles was cancelled".to_owned(),
                    },
                });
                listed.push(ListedAccount { account, roles: None });
            }
        }
    }
    Listing {
        accounts: listed,
        failed,
        requests: portal.http().attempts(),
        throttled: portal.http().throttled(),
    }
}

/// Each account once: a portal that repeats one across pages must not list it twice.
fn distinct(accounts: Vec<AccountInfo>) -> Vec<AccountInfo> {
    let mut seen = HashSet::with_capacity(accounts.len());
    accounts.into_iter().filter(|a| seen.insert(a.account_id.clone())).collect()
}

/// The cache after `listing`, fetched at `now`.
///
/// Accounts the portal no longer lists are dropped. An account whose roles were not fetched
/// (they failed, or only accounts were listed) keeps its previous roles and `rolesFetchedAt`, so
/// a failed refresh loses nothing. A previous cache of another session or start URL is ignored.
pub fn merge_into_cache(
    previous: Option<&AccountCache>,
    listing: &Listing,
    target: &SessionTarget,
    now: Timestamp,
) -> AccountCache {
    let previous: HashMap<&str, &CachedAccount> = previous
        .filter(|p| p.is_for(target))
        .map(|p| p.accounts.iter().map(|a| (a.account_id.as_str(), a)).collect())
        .unwrap_or_default();
    let mut accounts: Vec<CachedAccount> = listing
        .accounts
        .iter()
        .map(|listed| {
            let info = &listed.account;
            let (roles, roles_fetched_at) =
                match (&listed.roles, previous.get(info.account_id.as_str())) {
                    (Some(roles), _) => (roles.clone(), Some(now)),
                    (None, Some(old)) => (old.roles.clone(), old.roles_fetched_at),
                    (None, None) => (Vec::new(), None),
                };
            CachedAccount {
                account_id: info.account_id.clone(),
                account_name: info.account_name.clone(),
                email_address: info.email_address.clone(),
                roles,
                roles_fetched_at,
            }
        })
        .collect();
    accounts.sort_by(account_order);
    AccountCache { accounts, ..AccountCache::new(target, now) }
}

/// `cache` with the roles `listing` fetched for some of its accounts, fetched at `now`; every
/// other account keeps what it had. An account the index no longer has (another process listed
/// it again meanwhile) is left out.
pub fn merge_roles(cache: &mut AccountCache, listing: &Listing, now: Timestamp) {
    let fetched: HashMap<&str, &Vec<String>> = listing
        .accounts
        .iter()
        .filter_map(|l| Some((l.account.account_id.as_str(), l.roles.as_ref()?)))
        .collect();
    for account in &mut cache.accounts {
        if let Some(roles) = fetched.get(account.account_id.as_str()) {
            account.roles = (*roles).clone();
            account.roles_fetched_at = Some(now);
        }
    }
}

/// The cache after an index listing of `accounts` at `now`, keeping the roles known before.
pub fn merge_index(
    previous: Option<&AccountCache>,
    accounts: &[AccountInfo],
    target: &SessionTarget,
    now: Timestamp,
) -> AccountCache {
    let listing = Listing {
        accounts: accounts
            .iter()
            .map(|account| ListedAccount { account: account.clone(), roles: None })
            .collect(),
        failed: Vec::new(),
        requests: 0,
        throttled: 0,
    };
    merge_into_cache(previous, &listing, target, now)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::http::test_server::{Canned, Recorded, TestServer};
    use crate::http::{HttpClient, HttpSettings};

    fn settings() -> HttpSettings {
        HttpSettings {
            backoff_base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..HttpSettings::default()
        }
    }

    fn portal_with(server: &TestServer, settings: HttpSettings) -> PortalClient {
        PortalClient::new(server.base_url.clone(), Arc::new(HttpClient::new(settings)))
    }

    fn portal(server: &TestServer) -> PortalClient {
        portal_with(server, settings())
    }

    fn token() -> Secret {
        Secret::new("TOKEN-123")
    }

    fn unlimited() -> ListingOptions {
        ListingOptions { rate_limit: None, ..ListingOptions::default() }
    }

    fn id(n: usize) -> String {
        format!("{:012}", 100_000_000_000 + n)
    }

    /// A query parameter of a recorded request, as sent (still percent-encoded).
    fn param(request: &Recorded, name: &str) -> Option<String> {
        let query = request.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }

    fn is_roles(request: &Recorded) -> bool {
        request.target.starts_with("/assignment/roles")
    }

    /// An organization of `count` accounts named `account-N`, each with the given roles, paged
    /// 100 at a time with opaque page tokens.
    fn accounts_page(request: &Recorded, count: usize) -> Canned {
        let start: usize = param(request, "next_token")
            .map(|t| t.trim_start_matches("page").parse().expect("our token"))
            .unwrap_or(0);
        let size: usize = param(request, "max_result").expect("max_result").parse().expect("n");
        let end = (start + size).min(count);
        let list: Vec<serde_json::Value> = (start..end)
            .map(|n| {
                serde_json::json!({
                    "accountId": id(n),
                    "accountName": format!("account-{n:03}"),
                    "emailAddress": format!("a{n}@example.com"),
                })
            })
            .collect();
        let next = (end < count).then(|| format!("page{end}"));
        Canned::json(200, &serde_json::json!({"accountList": list, "nextToken": next}).to_string())
    }

    fn roles_page(request: &Recorded, roles: &[&str]) -> Canned {
        let account = param(request, "account_id").expect("account_id");
        let list: Vec<serde_json::Value> = roles
            .iter()
            .map(|r| serde_json::json!({"roleName": r, "accountId": account}))
            .collect();
        Canned::json(200, &serde_json::json!({"roleList": list}).to_string())
    }

    fn throttled() -> Canned {
        Canned::json(429, r#"{"message":"Rate exceeded"}"#)
            .header("x-amzn-ErrorType", "TooManyRequestsException")
    }

    #[derive(Default)]
    struct Recorder {
        listed: Vec<usize>,
        done: Vec<(usize, usize)>,
    }

    impl ListingProgress for Recorder {
        fn accounts_listed(&mut self, total: usize) {
            self.listed.push(total);
        }
        fn account_done(&mut self, done: usize, total: usize) {
            self.done.push((done, total));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn lists_every_account_page_by_page_and_the_roles_of_each() {
        let server = TestServer::route(|r| {
            if is_roles(r) { roles_page(r, &["ReadOnly", "Admin"]) } else { accounts_page(r, 250) }
        });
        let mut progress = Recorder::default();
        let listing = list_everything(&portal(&server), &token(), &unlimited(), &mut progress)
            .await
            .expect("listing");
        assert!(listing.is_complete());
        assert_eq!(listing.accounts.len(), 250);
        assert_eq!(listing.accounts[0].account.account_id, "100000000000");
        assert_eq!(listing.accounts[249].account.account_name, "account-249");
        assert!(
            listing
                .accounts
                .iter()
                .all(|a| a.roles == Some(vec!["Admin".to_owned(), "ReadOnly".to_owned()]))
        );
        assert_eq!(listing.requests, 3 + 250);
        assert_eq!(listing.throttled, 0);
        assert_eq!(progress.listed, [250]);
        assert_eq!(progress.done.len(), 250);
        assert_eq!(progress.done.last(), Some(&(250, 250)));

        let sent = server.requests();
        let pages: Vec<&str> =
            sent.iter().filter(|r| !is_roles(r)).map(|r| r.target.as_str()).collect();
        assert_eq!(
            pages,
            [
                "/assignment/accounts?max_result=100",
                "/assignment/accounts?max_result=100&next_token=page100",
                "/assignment/accounts?max_result=100&next_token=page200",
            ]
        );
        let mut asked: Vec<String> =
            sent.iter().filter(|r| is_roles(r)).filter_map(|r| param(r, "account_id")).collect();
        asked.sort();
        assert_eq!(asked, (0..250).map(id).collect::<Vec<_>>());
        assert!(sent.iter().all(|r| r.header("x-amz-sso_bearer_token") == Some("TOKEN-123")));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_account_with_no_roles_is_listed_with_none() {
        let server = TestServer::route(|r| {
            if !is_roles(r) {
                return accounts_page(r, 2);
            }
            if param(r, "account_id") == Some(id(0)) {
                roles_page(r, &[])
            } else {
                roles_page(r, &["Admin"])
            }
        });
        let listing = list_everything(&portal(&server), &token(), &unlimited(), &mut ())
            .await
            .expect("listing");
        assert!(listing.is_complete());
        assert_eq!(listing.accounts[0].roles, Some(Vec::new()));
        assert_eq!(listing.accounts[1].roles, Some(vec!["Admin".to_owned()]));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_throttled_account_is_retried_until_it_answers() {
        let attempts = Mutex::new(HashMap::<String, usize>::new());
        let server = TestServer::route(move |r| {
            if !is_roles(r) {
                return accounts_page(r, 5);
            }
            let account = param(r, "account_id").expect("account");
            let mut attempts = attempts.lock().expect("lock");
            let n = attempts.entry(account.clone()).or_default();
            *n += 1;
            // Account 2 is throttled three times, the others once each.
            let limit = if account == id(2) { 3 } else { 1 };
            if *n <= limit { throttled() } else { roles_page(r, &["Admin"]) }
        });
        let listing = list_everything(&portal(&server), &token(), &unlimited(), &mut ())
            .await
            .expect("listing");
        assert!(listing.is_complete(), "{:?}", listing.failed);
        assert_eq!(listing.accounts.iter().filter(|a| a.roles.is_some()).count(), 5);
        assert_eq!(listing.throttled, 4 + 3);
        assert_eq!(listing.requests, 1 + 5 * 2 + 2);
        assert_eq!(server.requests().len(), listing.requests);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn retries_of_a_throttled_call_honour_retry_after() {
        let calls = Mutex::new(0);
        let server = TestServer::route(move |r| {
            if !is_roles(r) {
                return accounts_page(r, 1);
            }
            let mut calls = calls.lock().expect("lock");
            *calls += 1;
            if *calls == 1 { throttled().header("Retry-After", "1") } else { roles_page(r, &["A"]) }
        });
        let start = Instant::now();
        let listing = list_everything(&portal(&server), &token(), &unlimited(), &mut ())
            .await
            .expect("listing");
        assert!(listing.is_complete());
        assert!(start.elapsed() >= Duration::from_secs(1), "waited {:?}", start.elapsed());
        assert_eq!(listing.throttled, 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn throttling_that_never_ends_fails_that_account_after_eight_attempts() {
        let server = TestServer::route(|r| {
            if !is_roles(r) {
                return accounts_page(r, 3);
            }
            if param(r, "account_id") == Some(id(1)) { throttled() } else { roles_page(r, &["A"]) }
        });
        let listing = list_everything(&portal(&server), &token(), &unlimited(), &mut ())
            .await
            .expect("listing");
        assert_eq!(listing.failed.len(), 1);
        let failed = &listing.failed[0];
        assert_eq!(failed.label(), format!("account-001 ({})", id(1)));
        assert!(failed.error.is_throttling());
        assert!(failed.error.to_string().contains("TooManyRequestsException"), "{}", failed.error);
        assert_eq!(listing.throttled, 8);
        assert_eq!(listing.requests, 1 + 2 + 8);
        assert!(!listing.session_expired());
        // The account is still listed, without roles: it is not silently dropped.
        assert_eq!(listing.accounts.len(), 3);
        assert_eq!(listing.accounts[1].roles, None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_burst_of_5xx_is_retried_and_a_dead_account_fails_after_three_attempts() {
        let served = Mutex::new(0usize);
        let server = TestServer::route(move |r| {
            if !is_roles(r) {
                return accounts_page(r, 6);
            }
            let mut served = served.lock().expect("lock");
            *served += 1;
            if param(r, "account_id") == Some(id(4)) {
                return Canned::json(500, r#"{"message":"internal"}"#);
            }
            // The first three role requests meet a 503 burst.
            if *served <= 3 { Canned::json(503, "{}") } else { roles_page(r, &["Admin"]) }
        });
        let options = ListingOptions { concurrency: 2, ..unlimited() };
        let listing =
            list_everything(&portal(&server), &token(), &options, &mut ()).await.expect("listing");
        let failed: Vec<String> = listing.failed.iter().map(FailedAccount::label).collect();
        assert_eq!(failed, [format!("account-004 ({})", id(4))]);
        assert_eq!(listing.failed[0].error.code(), Some("500"));
        let sent_for_4 =
            server.requests().iter().filter(|r| param(r, "account_id") == Some(id(4))).count();
        assert_eq!(sent_for_4, 3);
        assert_eq!(listing.accounts.iter().filter(|a| a.roles.is_some()).count(), 5);
        assert_eq!(listing.throttled, 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_request_that_hangs_past_the_timeout_is_retried() {
        let calls = Mutex::new(0);
        let server = TestServer::route(move |r| {
            if !is_roles(r) {
                return accounts_page(r, 2);
            }
            let mut calls = calls.lock().expect("lock");
            *calls += 1;
            let answer = roles_page(r, &["Admin"]);
            if *calls == 1 { answer.after(Duration::from_secs(2)) } else { answer }
        });
        let http = HttpSettings { timeout: Duration::from_millis(300), ..settings() };
        let options = ListingOptions { concurrency: 1, ..unlimited() };
        let listing = list_everything(&portal_with(&server, http), &token(), &options, &mut ())
            .await
            .expect("listing");
        assert!(listing.is_complete(), "{:?}", listing.failed);
        assert_eq!(listing.requests, 1 + 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_expired_token_fails_the_rest_without_asking_again() {
        let served = Mutex::new(0usize);
        let server = TestServer::route(move |r| {
            if !is_roles(r) {
                return accounts_page(r, 10);
            }
            let mut served = served.lock().expect("lock");
            *served += 1;
            if *served <= 4 {
                roles_page(r, &["Admin"])
            } else {
                Canned::json(401, r#"{"message":"Session token not found or invalid"}"#)
                    .header("x-amzn-ErrorType", "UnauthorizedException")
            }
        });
        let options = ListingOptions { concurrency: 1, ..unlimited() };
        let mut progress = Recorder::default();
        let listing = list_everything(&portal(&server), &token(), &options, &mut progress)
            .await
            .expect("the accounts were listed");
        assert!(listing.session_expired());
        let fetched: Vec<&str> = listing
            .accounts
            .iter()
            .filter(|a| a.roles.is_some())
            .map(|a| a.account.account_name.as_str())
            .collect();
        assert_eq!(fetched, ["account-000", "account-001", "account-002", "account-003"]);
        assert_eq!(listing.failed.len(), 6);
        assert_eq!(listing.failed[0].account_name, "account-004");
        for failed in &listing.failed {
            let text = failed.error.to_string();
            assert!(text.contains("expired") && text.contains("Run: aws-sso-login"), "{text}");
            assert!(!text.contains("TOKEN-123"), "{text}");
        }
        // One 401 is enough: the five accounts after it were not asked for.
        assert_eq!(server.requests().len(), 1 + 5);
        assert_eq!(listing.requests, 1 + 5);
        assert_eq!(progress.done.last(), Some(&(10, 10)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failing_account_list_fails_the_whole_listing() {
        let server = TestServer::route(|r| {
            if r.target.contains("next_token") {
                Canned::json(401, "{}").header("x-amzn-ErrorType", "UnauthorizedException")
            } else {
                accounts_page(r, 150)
            }
        });
        let err = list_everything(&portal(&server), &token(), &unlimited(), &mut ())
            .await
            .expect_err("page two failed");
        assert!(err.is_unauthorized());
        assert_eq!(server.requests().len(), 2, "no role is asked for");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn accounts_only_sends_no_role_requests() {
        let server = TestServer::route(|r| {
            assert!(!is_roles(r), "asked for roles");
            accounts_page(r, 120)
        });
        let options = ListingOptions { accounts_only: true, ..unlimited() };
        let mut progress = Recorder::default();
        let listing = list_everything(&portal(&server), &token(), &options, &mut progress)
            .await
            .expect("listing");
        assert_eq!(listing.accounts.len(), 120);
        assert!(listing.accounts.iter().all(|a| a.roles.is_none()));
        assert!(listing.is_complete());
        assert_eq!(listing.requests, 2);
        assert!(progress.listed.is_empty(), "no role is fetched");
        assert!(progress.done.is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_account_repeated_across_pages_is_listed_once() {
        let server = TestServer::route(|r| {
            if is_roles(r) {
                return roles_page(r, &["Admin"]);
            }
            let body = if r.target.contains("next_token") {
                r#"{"accountList":[{"accountId":"1","accountName":"a"},{"accountId":"2","accountName":"b"}]}"#
            } else {
                r#"{"accountList":[{"accountId":"1","accountName":"a"}],"nextToken":"t"}"#
            };
            Canned::json(200, body)
        });
        let listing = list_everything(&portal(&server), &token(), &unlimited(), &mut ())
            .await
            .expect("listing");
        let ids: Vec<&str> =
            listing.accounts.iter().map(|a| a.account.account_id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(listing.requests, 2 + 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn every_request_and_retry_waits_on_the_rate_limit() {
        let calls = Mutex::new(0usize);
        let server = TestServer::route(move |r| {
            if !is_roles(r) {
                return accounts_page(r, 8);
            }
            let mut calls = calls.lock().expect("lock");
            *calls += 1;
            if *calls == 1 { throttled() } else { roles_page(r, &["Admin"]) }
        });
        let options = ListingOptions { rate_limit: Some(40.0), ..ListingOptions::default() };
        let start = Instant::now();
        let listing =
            list_everything(&portal(&server), &token(), &options, &mut ()).await.expect("listing");
        let elapsed = start.elapsed();
        assert!(listing.is_complete());
        // 1 page + 8 accounts + 1 retry = 10 requests at 40/s: nine 25 ms intervals at least.
        assert_eq!(listing.requests, 10);
        assert!(elapsed >= Duration::from_millis(225), "took {elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    }

    #[test]
    fn options_come_from_the_settings() {
        let defaults = ListingOptions::from_settings(&Settings::default());
        assert_eq!(defaults, ListingOptions::default());
        assert_eq!(defaults.rate_limit, Some(20.0));
        assert_eq!(defaults.concurrency, 16);
        let settings =
            Settings { rate_limit: Some(0.0), concurrency: Some(4), ..Settings::default() };
        let options = ListingOptions::from_settings(&settings);
        assert_eq!(options.rate_limit, Some(0.0));
        assert!(RateLimiter::new(options.rate_limit).is_unlimited());
        assert_eq!(options.concurrency, 4);
    }

    fn target() -> SessionTarget {
        SessionTarget {
            session_name: Some("corp".to_owned()),
            profile: None,
            start_url: "https://d-abc123.awsapps.com/start".to_owned(),
            region: "eu-west-1".to_owned(),
            scopes: None,
        }
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn info(id: &str, name: &str) -> AccountInfo {
        AccountInfo {
            account_id: id.to_owned(),
            account_name: name.to_owned(),
            email_address: Some(format!("{name}@example.com")),
        }
    }

    fn cached(id: &str, name: &str, roles: &[&str], at: &str) -> CachedAccount {
        CachedAccount {
            account_id: id.to_owned(),
            account_name: name.to_owned(),
            email_address: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            roles_fetched_at: Some(ts(at)),
        }
    }

    fn previous() -> AccountCache {
        AccountCache {
            accounts: vec![
                cached("1", "prod", &["Admin", "ReadOnly"], "2024-05-01T00:00:00Z"),
                cached("2", "dev", &["Admin"], "2024-05-01T00:00:00Z"),
                cached("3", "retired", &["Admin"], "2024-05-01T00:00:00Z"),
            ],
            ..AccountCache::new(&target(), ts("2024-05-01T00:00:00Z"))
        }
    }

    fn failure() -> HttpError {
        HttpError::Timeout {
            operation: crate::portal::PORTAL.operation("ListAccountRoles"),
            url: "http://x".to_owned(),
            after: Duration::from_secs(10),
        }
    }

    #[test]
    fn merge_drops_gone_accounts_and_keeps_the_old_roles_of_failed_ones() {
        let now = ts("2024-06-01T12:00:00Z");
        let listing = Listing {
            accounts: vec![
                ListedAccount { account: info("1", "prod"), roles: Some(vec!["Admin".to_owned()]) },
                ListedAccount { account: info("2", "Dev renamed"), roles: None },
                ListedAccount { account: info("4", "new"), roles: None },
                ListedAccount { account: info("5", "empty"), roles: Some(Vec::new()) },
            ],
            failed: vec![
                FailedAccount {
                    account_id: "2".to_owned(),
                    account_name: "Dev renamed".to_owned(),
                    error: failure(),
                },
                FailedAccount {
                    account_id: "4".to_owned(),
                    account_name: "new".to_owned(),
                    error: failure(),
                },
            ],
            requests: 5,
            throttled: 0,
        };
        let merged = merge_into_cache(Some(&previous()), &listing, &target(), now);
        assert_eq!(merged.fetched_at, now);
        assert_eq!(merged.sso_session.as_deref(), Some("corp"));
        assert_eq!(
            merged.accounts,
            vec![
                // The name and e-mail are fresh; the roles are the last ones known.
                CachedAccount {
                    account_id: "2".to_owned(),
                    account_name: "Dev renamed".to_owned(),
                    email_address: Some("Dev renamed@example.com".to_owned()),
                    roles: vec!["Admin".to_owned()],
                    roles_fetched_at: Some(ts("2024-05-01T00:00:00Z")),
                },
                CachedAccount {
                    account_id: "5".to_owned(),
                    account_name: "empty".to_owned(),
                    email_address: Some("empty@example.com".to_owned()),
                    roles: Vec::new(),
                    roles_fetched_at: Some(now),
                },
                // Never fetched: no roles, and the cache says so.
                CachedAccount {
                    account_id: "4".to_owned(),
                    account_name: "new".to_owned(),
                    email_address: Some("new@example.com".to_owned()),
                    roles: Vec::new(),
                    roles_fetched_at: None,
                },
                CachedAccount {
                    account_id: "1".to_owned(),
                    account_name: "prod".to_owned(),
                    email_address: Some("prod@example.com".to_owned()),
                    roles: vec!["Admin".to_owned()],
                    roles_fetched_at: Some(now),
                },
            ]
        );
    }

    #[test]
    fn an_accounts_only_listing_keeps_every_known_role() {
        let now = ts("2024-06-01T12:00:00Z");
        let listing = Listing {
            accounts: vec![
                ListedAccount { account: info("1", "prod"), roles: None },
                ListedAccount { account: info("2", "dev"), roles: None },
            ],
            failed: Vec::new(),
            requests: 1,
            throttled: 0,
        };
        let merged = merge_into_cache(Some(&previous()), &listing, &target(), now);
        let roles: Vec<(&str, &[String], Option<Timestamp>)> = merged
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a.roles.as_slice(), a.roles_fetched_at))
            .collect();
        let old = Some(ts("2024-05-01T00:00:00Z"));
        assert_eq!(
            roles,
            [
                ("2", &["Admin".to_owned()][..], old),
                ("1", &["Admin".to_owned(), "ReadOnly".to_owned()][..], old)
            ]
        );
    }

    #[test]
    fn a_cache_of_another_start_url_lends_no_roles() {
        let listing = Listing {
            accounts: vec![ListedAccount { account: info("1", "prod"), roles: None }],
            failed: Vec::new(),
            requests: 1,
            throttled: 0,
        };
        let moved =
            SessionTarget { start_url: "https://d-other.awsapps.com/start".to_owned(), ..target() };
        let merged =
            merge_into_cache(Some(&previous()), &listing, &moved, ts("2024-06-01T12:00:00Z"));
        assert_eq!(merged.start_url, "https://d-other.awsapps.com/start");
        assert!(merged.accounts[0].roles.is_empty());
        assert_eq!(merged.accounts[0].roles_fetched_at, None);
    }

    #[test]
    fn merging_some_accounts_roles_keeps_every_other_account_and_the_index_time() {
        let mut cache = previous();
        let now = ts("2024-06-01T12:00:00Z");
        let listing = Listing {
            accounts: vec![
                ListedAccount { account: info("2", "dev"), roles: Some(vec!["Dev".to_owned()]) },
                // Failed: keeps what it had.
                ListedAccount { account: info("3", "retired"), roles: None },
                // Gone from the index meanwhile: not added back.
                ListedAccount { account: info("9", "gone"), roles: Some(vec!["X".to_owned()]) },
            ],
            failed: Vec::new(),
            requests: 3,
            throttled: 0,
        };
        merge_roles(&mut cache, &listing, now);
        let old = Some(ts("2024-05-01T00:00:00Z"));
        let roles: Vec<(&str, Vec<&str>, Option<Timestamp>)> = cache
            .accounts
            .iter()
            .map(|a| {
                (
                    a.account_id.as_str(),
                    a.roles.iter().map(String::as_str).collect(),
                    a.roles_fetched_at,
                )
            })
            .collect();
        assert_eq!(
            roles,
            [
                ("1", vec!["Admin", "ReadOnly"], old),
                ("2", vec!["Dev"], Some(now)),
                ("3", vec!["Admin"], old),
            ]
        );
        assert_eq!(cache.fetched_at, ts("2024-05-01T00:00:00Z"), "the index's own time");
    }
}
