//! Choosing on a terminal: when a command that needs an account and role gets none, or a name
//! that matches several accounts, and stdin and stderr are terminals, the picker shows every
//! account and role it can and the choice goes on as if it had been typed. Without a terminal
//! the error stands, at once.

use std::io::{IsTerminal as _, Write as _};

use aws_sso_cli::Cancelled;
use aws_sso_core::cache::accounts::{AccountCache, AccountLookupError};
use aws_sso_core::error::{Error, ResolveError};
use aws_sso_core::resolve::{self, RoleChoice};
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
    let mut picker = Picker::new(&title, rows, &recent, query);
    let chosen = term::run(&mut picker)?.ok_or(Cancelled)?;
    let target = match &chosen.session {
        Some(name) => caches.iter().find(|(t, _)| t.display_name() == *name).map(|(t, _)| t),
        None => caches.first().map(|(t, _)| t),
    }
    .expect("a row comes from one of the caches")
    .clone();
    let role = match &chosen.role {
        Some(role) => role.clone(),
        None => choose_role(ctx, &runtime, &target, &chosen, &recent)?,
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
    Ok(Some((request, RoleChoice { account: Some(chosen.account_id), role: Some(role) })))
}

/// The roles of the account of `chosen`, fetched now; the one there is, or one chosen in a
/// second picker.
fn choose_role(
    ctx: &Context,
    runtime: &tokio::runtime::Runtime,
    target: &SessionTarget,
    chosen: &Row,
    recent: &[history::Entry],
) -> anyhow::Result<String> {
    let request = AccountsRequest {
        refresh_roles: true,
        roles: RolesWanted::Of(vec![chosen.account_id.clone()]),
        ..AccountsRequest::default()
    };
    let accounts = runtime.block_on(session::accounts(ctx, target, request, &mut ()))?;
    let label = format!("{} ({})", chosen.account_name, chosen.account_id);
    let roles =
        accounts.cache.roles_of(&chosen.account_id).map(<[String]>::to_vec).unwrap_or_default();
    match roles.as_slice() {
        [] => Err(Error::from(ResolveError::NoRoles { account: label }).into()),
        [only] => Ok(only.clone()),
        several => {
            let rows = several
                .iter()
                .map(|role| Row { role: Some(role.clone()), ..chosen.clone() })
                .collect();
            let mut picker = Picker::new(&label, rows, recent, "");
            let row = term::run(&mut picker)?.ok_or(Cancelled)?;
            Ok(row.role.expect("every row of this step has a role"))
        }
    }
}
