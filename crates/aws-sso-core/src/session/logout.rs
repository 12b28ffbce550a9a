//! `aws-sso-login logout`: the service's Logout, then the token and role-credential files.

use jiff::{SignedDuration, Timestamp};

use super::Context;
use super::token::{TokenState, read_token};
use crate::cache;
use crate::cache::locks::session_lock_path;
use crate::cache::role_credentials::{RoleCredentialsKey, remove_sso_role_credentials};
use crate::cache::token::{load_token, remove_file_if_exists};
use crate::config::selected_profile;
use crate::error::Result;
use crate::lock::FileLock;
use crate::target::SessionTarget;

/// What a logout removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogoutOutcome {
    /// Token files deleted.
    pub tokens_removed: usize,
    /// Role-credential files deleted from `~/.aws/cli/cache`.
    pub role_credentials_removed: usize,
    /// Sessions whose server-side logout failed (the local files are gone all the same).
    pub server_logout_failed: Vec<String>,
}

/// Logs out of one session: `Logout` on the service, then its token file and its role
/// credentials in `~/.aws/cli/cache`. Registrations are kept, as the AWS CLI keeps them.
pub async fn logout(ctx: &Context, target: &SessionTarget) -> Result<LogoutOutcome> {
    let _lock =
        FileLock::acquire_async(session_lock_path(&ctx.env, target.token_identifier())).await?;
    let mut outcome = LogoutOutcome::default();
    let token_path = ctx.caches.token_path(target.token_identifier());
    if let TokenState::Present(token) = read_token(ctx, target)
        && token.remaining(Timestamp::now()) > SignedDuration::ZERO
    {
        let portal = ctx.portal_client(target)?;
        if let Err(e) = portal.logout(&token.access_token).await {
            tracing::info!("server-side logout of {} failed: {e}", target.display_name());
            outcome.server_logout_failed.push(target.display_name());
        }
    }
    if remove_file_if_exists(&token_path)? {
        outcome.tokens_removed += 1;
    }
    let keys = role_credential_keys(ctx, target);
    outcome.role_credentials_removed = remove_sso_role_credentials(&ctx.caches.cli, Some(&keys))?;
    if let Some(session) = &target.session_name {
        cache::role_credentials::forget_recorded_keys(&ctx.env, session)?;
    }
    Ok(outcome)
}

/// The role-credential cache entries that can belong to `target`: those of every profile that
/// uses it (the ones the AWS CLI writes) and those our tools recorded writing.
fn role_credential_keys(ctx: &Context, target: &SessionTarget) -> Vec<RoleCredentialsKey> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for name in ctx.config.profile_names() {
        let Some(profile) = ctx.config.profile(name) else { continue };
        let same = match &target.session_name {
            Some(session) => profile.get("sso_session") == Some(session.as_str()),
            None => {
                profile.get("sso_session").is_none()
                    && profile.get("sso_start_url") == Some(target.start_url.as_str())
            }
        };
        if let (true, Some(account), Some(role)) =
            (same, profile.get("sso_account_id"), profile.get("sso_role_name"))
        {
            pairs.push((account.to_owned(), role.to_owned()));
        }
    }
    if let Some(session) = &target.session_name {
        pairs.extend(cache::role_credentials::recorded_keys(&ctx.env, session));
    }
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(account_id, role_name)| match &target.session_name {
            Some(session_name) => RoleCredentialsKey::Session {
                session_name: session_name.clone(),
                account_id,
                role_name,
            },
            None => RoleCredentialsKey::StartUrl {
                start_url: target.start_url.clone(),
                account_id,
                role_name,
            },
        })
        .collect()
}

/// Logs out of everything, as `aws sso logout` does: every token file in `~/.aws/sso/cache`
/// (after `Logout` in its region) and every `ProviderType: sso` entry of `~/.aws/cli/cache`.
pub async fn logout_all(ctx: &Context) -> Result<LogoutOutcome> {
    let mut outcome = LogoutOutcome::default();
    for path in cache::token::sso_token_files(&ctx.caches.sso) {
        if let Ok(Some(token)) = load_token(&path)
            && let Some(region) = &token.region
            && token.remaining(Timestamp::now()) > SignedDuration::ZERO
        {
            let profile = selected_profile(&ctx.env);
            let portal = ctx.portal_client_for_region(region, profile.as_deref())?;
            if let Err(e) = portal.logout(&token.access_token).await {
                let name = token.start_url.clone().unwrap_or_else(|| path.display().to_string());
                tracing::info!("server-side logout of {name} failed: {e}");
                outcome.server_logout_failed.push(name);
            }
        }
        if remove_file_if_exists(&path)? {
            outcome.tokens_removed += 1;
        }
    }
    outcome.role_credentials_removed = remove_sso_role_credentials(&ctx.caches.cli, None)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::role_credentials::record_role_credentials_key;
    use crate::session::testing::{Home, with_corp};
    use crate::target::SessionRequest;

    /// What follows the `corp` session in this module's config.
    const CONFIG_REST: &str = "\
[sso-session lab]
sso_start_url = https://lab.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev

[profile ops]
sso_session = lab
sso_account_id = 222222222222
sso_role_name = Ops
";

    #[test]
    fn a_sessions_role_credentials_are_its_profiles_and_the_ones_we_recorded() {
        let home = Home::new(&with_corp(CONFIG_REST));
        let ctx = home.context();
        let recorded = |account: &str, role: &str| RoleCredentialsKey::Session {
            session_name: "corp".into(),
            account_id: account.into(),
            role_name: role.into(),
        };
        record_role_credentials_key(&ctx.env, &recorded("333333333333", "Admin")).expect("record");
        record_role_credentials_key(&ctx.env, &recorded("111111111111", "Dev")).expect("record");
        let request = SessionRequest { sso_session: Some("corp".into()), ..Default::default() };
        let target = crate::session::resolve(&ctx, &request).expect("corp");
        let keys = role_credential_keys(&ctx, &target);
        assert_eq!(keys, vec![recorded("111111111111", "Dev"), recorded("333333333333", "Admin")]);
    }
}
