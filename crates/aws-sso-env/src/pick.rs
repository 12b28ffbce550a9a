//! Choosing on a terminal: when a command that needs an account and role gets none, or a name
//! that matches several accounts, and stdin and stderr are terminals, the picker shows every
//! account and role it can and the choice goes on as if it had been typed. Without a terminal
//! the error stands, at once.

use std::io::{IsTerminal as _, Write as _};

use aws_sso_cli::Cancelled;
use aws_sso_core::cache::accounts::{AccountCache, AccountLookupError};
use aws_sso_core::error::{Error, ResolveError};
use aws_sso_core::resolve::{self, RoleChoice};
use std::sync::{Arc, Mutex, mpsc};

use aws_sso_core::portal::AccountInfo;
use aws_sso_core::portal::listing::Listing;
use aws_sso_core::session::{
    self, AccountsRequest, Context, RolesWanted, SessionError, SessionRequest, SessionTarget,
};

use crate::picker::{Picker, Row, history, term};

/// The query the picker starts with when `error` is one it can answer (nothing named: empty; an
/// ambiguous name: that name) and stdin and stderr are terminals; `None` otherwise.
pub fn offer(error: &Error) -> Option<String> {
    let query = match error {
        Error::Resolve(ResolveError::NothingNamed) => String::new(),
        Error::Resolve(ResolveError::Lookup(AccountLookupError::Ambiguous { query, .. })) => {
            query.clone()
        }
        Error::Session(SessionError::Ambiguous { .. }) => String::new(),
        _ => return None,
    };
    (std::io::stdin().is_terminal() && std::io::stderr().is_terminal()).then_some(query)
}

/// The picker over the accounts and roles of the session `request` means (every logged-in
/// session when several are configured and none is chosen); `None` when there is nothing to pick
/// from (the caller's error then stands). A cold cache gets its account index first; an account
/// chosen before its roles are known gets them then (one request), with a second step when it
/// has several. Esc or Ctrl-C is [`Cancelled`].
pub fn pick(
    ctx: &Context,
    request: &SessionRequest,
    query: &str,
) -> anyhow::Result<Option<(SessionRequest, RoleChoice)>> {
    let request = resolve::in_current_project(ctx, request.clone());
    let targets = match session::resolve(ctx, &request) {
        Ok(target) => vec![target],
        Err(Error::Session(SessionError::Ambiguous { .. })) => session::logged_in_sessions(ctx),
        Err(e) => return Err(e.into()),
    };
    if targets.is_empty() {
        return Ok(None);
    }
    let runtime = aws_sso_cli::runtime()?;
    let mut caches: Vec<(SessionTarget, AccountCache)> = Vec::new();
    for target in targets {
        let cache = match resolve::usable_cache(ctx, &target) {
            Some(cache) => cache,
            None => {
                // On the terminal the picker draws on, wiped once the list is there.
                let mut err = std::io::stderr();
                let _ = write!(err, "Fetching the account list of {}…\r", target.display_name());
                let fetched = runtime.block_on(session::accounts(
                    ctx,
                    &target,
                    AccountsRequest::default(),
                    &mut (),
                ));
                let _ = write!(err, "\x1b[2K");
                fetched?.cache
            }
        };
        caches.push((target, cache));
    }
    let several = caches.len() > 1;
    let mut rows = Vec::new();
    for (target, cache) in &caches {
        let session = several.then(|| target.display_name());
        for account in &cache.accounts {
            let row = |role: Option<&String>| Row {
                session: session.clone(),
                account_id: account.account_id.clone(),
                account_name: account.account_name.clone(),
                role: role.cloned(),
            };
            match (&account.roles_fetched_at, account.roles.as_slice()) {
                (None, _) => rows.push(row(None)),
                // No role to use there: nothing to choose.
                (Some(_), []) => {}
                (Some(_), roles) => rows.extend(roles.iter().map(|r| row(Some(r)))),
            }
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let title =
        if several { format!("{} sessions", caches.len()) } else { caches[0].0.display_name() };
    let history_path = history::path(&ctx.env);
    let recent = history_path.as_deref().map(history::load).unwrap_or_default();
    let targets: Vec<SessionTarget> = caches.iter().map(|(t, _)| t.clone()).collect();
    let missing: Vec<(usize, AccountInfo)> = rows
        .iter()
        .filter(|r| r.role.is_none())
        .filter_map(|r| {
            let n = target_of(&targets, r.session.as_deref())?;
            Some((
                n,
                AccountInfo {
                    account_id: r.account_id.clone(),
                    account_name: r.account_name.clone(),
                    email_address: None,
                },
            ))
        })
        .collect();
    let mut feed = RoleFeed::start(&ctx.env, request.profile.as_deref(), &targets, missing);
    let mut picker = Picker::new(&title, rows, &recent, query);
    let chosen = term::run(&mut picker, &mut |picker| feed.bring_in(&targets, picker));
    // What arrived is kept for next time, chosen or not.
    feed.save(ctx, &targets);
    let chosen = chosen?.ok_or(Cancelled)?;
    let n = target_of(&targets, chosen.session.as_deref()).unwrap_or(0);
    let target = targets[n].clone();
    let role = match &chosen.role {
        Some(role) => role.clone(),
        None => {
            let known = feed.roles_of(n, &chosen.account_id);
            choose_role(ctx, &runtime, &target, &chosen, &recent, known)?
        }
    };
    history::remember(
        &ctx.env,
        history::Entry {
            session: target.session_name.clone(),
            account_id: chosen.account_id.clone(),
            role: role.clone(),
        },
    );
    let request = SessionRequest {
        sso_session: target.session_name.clone(),
        profile: if target.session_name.is_none() { target.profile.clone() } else { None },
        ..request
    };
    Ok(Some((
        request,
        RoleChoice { account: Some(chosen.account_id), role: Some(role), assume_role: None },
    )))
}

/// The roles of the account of `chosen` (`known` when the background fetch brought them, else
/// fetched now); the one there is, or one chosen in a second picker.
fn choose_role(
    ctx: &Context,
    runtime: &tokio::runtime::Runtime,
    target: &SessionTarget,
    chosen: &Row,
    recent: &[history::Entry],
    known: Option<Vec<String>>,
) -> anyhow::Result<String> {
    let roles = match known {
        Some(roles) => roles,
        None => {
            let request = AccountsRequest {
                refresh_roles: true,
                roles: RolesWanted::Of(vec![chosen.account_id.clone()]),
                ..AccountsRequest::default()
            };
            let accounts = runtime.block_on(session::accounts(ctx, target, request, &mut ()))?;
            accounts.cache.roles_of(&chosen.account_id).map(<[String]>::to_vec).unwrap_or_default()
        }
    };
    let label = format!("{} ({})", chosen.account_name, chosen.account_id);
    match roles.as_slice() {
        [] => Err(Error::from(ResolveError::NoRoles { account: label }).into()),
        [only] => Ok(only.clone()),
        several => {
            let rows = several
                .iter()
                .map(|role| Row { role: Some(role.clone()), ..chosen.clone() })
                .collect();
            let mut picker = Picker::new(&label, rows, recent, "");
            let row = term::run(&mut picker, &mut |_| false)?.ok_or(Cancelled)?;
            Ok(row.role.expect("every row of this step has a role"))
        }
    }
}

/// The index in `targets` of the session a row names (`None`: the only one).
fn target_of(targets: &[SessionTarget], session: Option<&str>) -> Option<usize> {
    match session {
        None => (!targets.is_empty()).then_some(0),
        Some(name) => targets.iter().position(|t| t.display_name() == name),
    }
}

/// A few accounts at a time: small enough that the highlighted account jumps the queue soon.
const FEED_BATCH: usize = 4;

/// The roles of the accounts the picker shows without them, fetched on a thread of their own
/// while the picker is open: the highlighted account first, then in display order. The thread
/// only fetches; what arrives is shown at once and saved once the picker closes, so a picker
/// closed (or a command run) mid-fetch leaves no half-written file.
struct RoleFeed {
    results: Option<mpsc::Receiver<(usize, Listing)>>,
    highlighted: Arc<Mutex<Option<(usize, String)>>>,
    received: Vec<(usize, Listing)>,
}

impl RoleFeed {
    fn start(
        env: &aws_sso_core::env::Environment,
        profile: Option<&str>,
        targets: &[SessionTarget],
        missing: Vec<(usize, AccountInfo)>,
    ) -> RoleFeed {
        let highlighted = Arc::new(Mutex::new(None));
        let mut feed = RoleFeed { results: None, highlighted, received: Vec::new() };
        if missing.is_empty() {
            return feed;
        }
        let (send, results) = mpsc::channel();
        let (env, profile, targets) = (env.clone(), profile.map(str::to_owned), targets.to_vec());
        let highlighted = Arc::clone(&feed.highlighted);
        let started = std::thread::Builder::new().name("roles".into()).spawn(move || {
            let Ok(ctx) = Context::load(env, profile.as_deref()) else { return };
            let Ok(runtime) = aws_sso_cli::runtime() else { return };
            let mut pending = missing;
            while !pending.is_empty() {
                let first = highlighted
                    .lock()
                    .ok()
                    .and_then(|h| h.clone())
                    .and_then(|(n, id)| {
                        pending.iter().position(|(m, a)| *m == n && a.account_id == id)
                    })
                    .unwrap_or(0);
                let target = pending[first].0;
                let mut batch = vec![pending.remove(first).1];
                while batch.len() < FEED_BATCH
                    && let Some(i) = pending.iter().position(|(m, _)| *m == target)
                {
                    batch.push(pending.remove(i).1);
                }
                let fetched = runtime.block_on(session::fetch_roles(&ctx, &targets[target], batch));
                // A login that lapsed, or a picker that closed: nothing more to do.
                let Ok(listing) = fetched else { return };
                if send.send((target, listing)).is_err() {
                    return;
                }
            }
        });
        match started {
            Ok(_) => feed.results = Some(results),
            Err(e) => tracing::debug!("the roles are fetched when chosen: {e}"),
        }
        feed
    }

    /// Tells the thread which account is highlighted, and gives the picker the roles that
    /// arrived; whether any did.
    fn bring_in(&mut self, targets: &[SessionTarget], picker: &mut Picker) -> bool {
        let Some(results) = &self.results else { return false };
        if let Some(row) = picker.selected()
            && row.role.is_none()
            && let (Some(n), Ok(mut slot)) =
                (target_of(targets, row.session.as_deref()), self.highlighted.lock())
        {
            *slot = Some((n, row.account_id.clone()));
        }
        let mut changed = false;
        while let Ok((n, listing)) = results.try_recv() {
            let session = (targets.len() > 1).then(|| targets[n].display_name());
            for listed in &listing.accounts {
                if let Some(roles) = &listed.roles {
                    picker.set_roles(session.as_deref(), &listed.account.account_id, roles);
                    changed = true;
                }
            }
            self.received.push((n, listing));
        }
        changed
    }

    /// The roles fetched while the picker was open, into each session's account cache.
    fn save(&mut self, ctx: &Context, targets: &[SessionTarget]) {
        self.results = None;
        let at = jiff::Timestamp::now();
        for (n, target) in targets.iter().enumerate() {
            let listings: Vec<&Listing> =
                self.received.iter().filter(|(m, _)| *m == n).map(|(_, l)| l).collect();
            if listings.is_empty() {
                continue;
            }
            if let Err(e) = session::save_fetched_roles(ctx, target, &listings, at) {
                tracing::warn!("{e}");
            }
        }
    }

    /// The roles of `account_id` of `targets[n]`, when they arrived.
    fn roles_of(&self, n: usize, account_id: &str) -> Option<Vec<String>> {
        self.received
            .iter()
            .filter(|(m, _)| *m == n)
            .flat_map(|(_, l)| &l.accounts)
            .find(|l| l.account.account_id == account_id)
            .and_then(|l| l.roles.clone())
    }
}
