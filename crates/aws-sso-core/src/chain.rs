//! Roles reached from an IAM Identity Center role through STS AssumeRole: profiles with
//! `role_arn` and `source_profile` (chains of any length, as the AWS CLI follows them), and the
//! role a project file or `--assume-role` names (docs/ARCHITECTURE.md §1, §10).
//!
//! The Identity Center role at the root gives its credentials as every other role does
//! ([`crate::credentials`]); each hop then trades the credentials before it for the next role's
//! with AssumeRole, cached in `~/.aws/cli/cache` under botocore's own key
//! ([`crate::cache::assume_role`]) and fetched under a per-role lock.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use crate::cache::assume_role::{self, AssumeRoleKey};
use crate::cache::locks::assume_role_lock_path;
use crate::cache::role_credentials::RoleCredentials;
use crate::config::AwsConfig;
pub use crate::config::parse_role_arn;
use crate::credentials::{self, RoleRequest};
pub use crate::error::ChainError;
use crate::error::Result;
use crate::http::HttpError;
use crate::lock::FileLock;
use crate::session::Context;
use crate::shell::printable;
use crate::sts::SourceKeys;

/// One AssumeRole of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// Where the role is named, for messages: `the profile "spoke"`, or a project file.
    pub origin: String,
    /// The AssumeRole parameters, which are also the cache key.
    pub key: AssumeRoleKey,
    /// The account and role name of `role_arn`.
    pub account_id: String,
    pub role_name: String,
}

impl Hop {
    /// A hop to `role_arn`, named in `origin`; `None` when it is not a role ARN.
    pub fn new(
        origin: String,
        role_arn: &str,
        role_session_name: Option<String>,
        external_id: Option<String>,
        duration_seconds: Option<i64>,
    ) -> Option<Self> {
        let (account_id, role_name) = parse_role_arn(role_arn)?;
        Some(Self {
            origin,
            key: AssumeRoleKey {
                role_arn: role_arn.to_owned(),
                role_session_name,
                external_id,
                duration_seconds,
            },
            account_id,
            role_name,
        })
    }
}

/// What a profile's `source_profile` chain comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileChain {
    /// The profile with the IAM Identity Center settings (`sso_session` or `sso_start_url`).
    pub root: String,
    /// From the root outward: `hops[0]` is assumed with the root role's credentials, and the
    /// last one is the role of the profile named.
    pub hops: Vec<Hop>,
    /// The first `region` found from the profile named down to the root.
    pub region: Option<String>,
}

fn non_empty<'a>(profile: &'a crate::config::Profile, key: &str) -> Option<&'a str> {
    profile.get(key).map(str::trim).filter(|v| !v.is_empty())
}

/// The chain of `name`, read from `config` (whose file, for messages, is `file`): `None` when
/// the profile has no `role_arn` (an Identity Center profile, or one that does not exist).
///
/// A profile with `role_arn` is assumed from its `source_profile`, as botocore does, whatever
/// else it holds; the chain ends at the first profile without `role_arn`, which must have the
/// Identity Center settings.
pub fn profile_chain(
    config: &AwsConfig,
    file: &Path,
    name: &str,
) -> Result<Option<ProfileChain>, ChainError> {
    let file = file.display().to_string();
    let Some(first) = config.profile(name) else { return Ok(None) };
    if first.get("role_arn").is_none() {
        return Ok(None);
    }
    let mut visited = vec![name.to_owned()];
    let mut hops = Vec::new();
    let mut region = None;
    let mut current = name.to_owned();
    loop {
        let Some(profile) = config.profile(&current) else {
            // Checked before it was followed.
            return Err(missing_source(
                config,
                &visited[visited.len().saturating_sub(2)],
                &current,
                file,
            ));
        };
        if region.is_none() {
            region = non_empty(profile, "region").map(str::to_owned);
        }
        let Some(role_arn) = profile.get("role_arn") else {
            if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
                hops.reverse();
                return Ok(Some(ProfileChain { root: current, hops, region }));
            }
            return Err(ChainError::SourceWithoutCredentials {
                profile: visited[visited.len().saturating_sub(2)].clone(),
                source_profile: current,
                file,
            });
        };
        let err_profile = current.clone();
        if non_empty(profile, "mfa_serial").is_some() {
            return Err(ChainError::Mfa { profile: err_profile, file });
        }
        if let Some(source) = non_empty(profile, "credential_source") {
            return Err(ChainError::CredentialSource {
                profile: err_profile,
                file,
                credential_source: source.to_owned(),
            });
        }
        let duration_seconds = match non_empty(profile, "duration_seconds") {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(seconds) if seconds > 0 => Some(seconds),
                _ => {
                    return Err(ChainError::BadDuration {
                        profile: err_profile,
                        file,
                        value: text.to_owned(),
                    });
                }
            },
        };
        let hop = Hop::new(
            format!("the profile \"{}\" ({file})", printable(&current)),
            role_arn,
            non_empty(profile, "role_session_name").map(str::to_owned),
            profile.get("external_id").map(str::to_owned),
            duration_seconds,
        )
        .ok_or_else(|| ChainError::NotAnArn {
            profile: err_profile.clone(),
            file: file.clone(),
            value: role_arn.to_owned(),
        })?;
        hops.push(hop);
        let Some(source) = non_empty(profile, "source_profile") else {
            return Err(ChainError::NoSourceProfile { profile: err_profile, file });
        };
        if visited.iter().any(|v| v == source) {
            let mut profiles = visited;
            profiles.push(source.to_owned());
            return Err(ChainError::Loop { profiles, file });
        }
        if config.profile(source).is_none() {
            return Err(missing_source(config, &err_profile, source, file));
        }
        visited.push(source.to_owned());
        current = source.to_owned();
    }
}

fn missing_source(config: &AwsConfig, profile: &str, source: &str, file: String) -> ChainError {
    let near = crate::names::did_you_mean(&crate::names::closest(source, config.profile_names()));
    ChainError::MissingSource {
        profile: profile.to_owned(),
        source_profile: source.to_owned(),
        file,
        near: printable(&near),
    }
}

/// Where AssumeRole is sent: the STS endpoint of `region` as `profile` configures endpoints.
pub struct StsTarget<'a> {
    pub region: &'a str,
    /// The profile whose endpoint settings (`[services]`, `endpoint_url`, FIPS, dual-stack)
    /// count; `None` for the default profile.
    pub profile: Option<&'a str>,
}

/// The credentials of the last hop when they are cached with more than `window` left; no
/// runtime, no HTTP client.
pub fn cached(ctx: &Context, hops: &[Hop], window: SignedDuration) -> Option<RoleCredentials> {
    read_cache(ctx, hops.last()?, window, true)
}

fn read_cache(
    ctx: &Context,
    hop: &Hop,
    window: SignedDuration,
    warn: bool,
) -> Option<RoleCredentials> {
    let path = assume_role::assume_role_file(&ctx.caches.cli, &hop.key);
    match assume_role::load(&path, &hop.account_id) {
        Ok(Some(creds)) if creds.remaining(Timestamp::now()) > window => Some(creds),
        Ok(_) => None,
        Err(e) => {
            if warn {
                tracing::warn!("{e}");
            }
            None
        }
    }
}

/// The credentials of the last hop: from the cache, else assumed from the nearest hop that is
/// cached, else from the root role's credentials ([`credentials::fetch`]). Each AssumeRole
/// holds its role's lock and reads the cache again once it has it, so that parallel processes
/// make one call per role.
pub async fn fetch(
    ctx: &Context,
    root: &RoleRequest<'_>,
    hops: &[Hop],
    sts: &StsTarget<'_>,
    window: SignedDuration,
) -> Result<RoleCredentials> {
    // The nearest hop from the end whose credentials are cached.
    let mut start = hops.len();
    let mut source = None;
    while start > 0 {
        if let Some(creds) = read_cache(ctx, &hops[start - 1], window, false) {
            source = Some(creds);
            break;
        }
        start -= 1;
    }
    let mut source = match source {
        Some(creds) => creds,
        None => match credentials::fetch(ctx, root, window).await {
            Ok(creds) => creds,
            Err(error) if error.kind() == crate::exit::ErrorKind::NotLoggedIn => {
                let origin = hops.last().map(|h| h.origin.clone()).unwrap_or_default();
                return Err(ChainError::SourceNeedsLogin { origin, error: Box::new(error) }.into());
            }
            Err(error) => return Err(error),
        },
    };
    for (index, hop) in hops.iter().enumerate().skip(start) {
        let from = match index {
            0 => format!("the role {} of account {}", root.role_name, root.account_id),
            _ => {
                let before = &hops[index - 1];
                format!("the role {} of account {}", before.role_name, before.account_id)
            }
        };
        source = assume(ctx, hop, &source, &from, sts, window).await?;
    }
    Ok(source)
}

/// One AssumeRole, under its lock, unless the cache answers once the lock is held.
async fn assume(
    ctx: &Context,
    hop: &Hop,
    source: &RoleCredentials,
    from: &str,
    sts: &StsTarget<'_>,
    window: SignedDuration,
) -> Result<RoleCredentials> {
    let cache_key = hop.key.cache_key();
    let _lock = match FileLock::acquire_async(assume_role_lock_path(&ctx.env, &cache_key)).await {
        Ok(lock) => Some(lock),
        Err(e) if e.cannot_create() => {
            tracing::warn!("{e}; assuming the role without the lock");
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(creds) = read_cache(ctx, hop, window, true) {
        return Ok(creds);
    }
    let client = ctx.sts_client(sts.region, sts.profile)?;
    let now = Timestamp::now();
    let params = hop.key.params(|| format!("botocore-session-{}", now.as_second()));
    let keys = SourceKeys {
        access_key_id: &source.access_key_id,
        secret_access_key: &source.secret_access_key,
        session_token: &source.session_token,
    };
    tracing::debug!(role_arn = %params.role_arn, endpoint = client.base_url(), "AssumeRole");
    let mut assumed = client
        .assume_role(&keys, &params, now)
        .await
        .map_err(|error| assume_error(hop, from, error))?;
    // The cache keeps whole seconds: this process reports the expiry the next one will read.
    if let Ok(whole) = Timestamp::from_second(assumed.expiration.as_second()) {
        assumed.expiration = whole;
    }
    let account_id = assumed
        .assumed_role_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(4))
        .filter(|a| !a.is_empty())
        .unwrap_or(&hop.account_id)
        .to_owned();
    let path = assume_role::assume_role_file(&ctx.caches.cli, &hop.key);
    if let Err(e) = assume_role::save(&path, &assumed, &account_id) {
        tracing::warn!("{e}");
    }
    Ok(RoleCredentials {
        access_key_id: assumed.access_key_id,
        secret_access_key: assumed.secret_access_key,
        session_token: assumed.session_token,
        expiration: assumed.expiration,
        account_id,
    })
}

fn assume_error(hop: &Hop, from: &str, error: HttpError) -> crate::Error {
    let fix = match error.code() {
        Some("AccessDenied" | "AccessDeniedException") => format!(
            "Its trust policy must allow {from} to assume it{}.",
            if hop.key.external_id.is_some() { ", with this external_id" } else { "" }
        ),
        Some("ExpiredToken" | "ExpiredTokenException") => {
            format!("The credentials of {from} expired; run the command again.")
        }
        Some("InvalidClientTokenId" | "SignatureDoesNotMatch" | "IncompleteSignature") => {
            format!("STS refused the credentials of {from}; run the command again.")
        }
        Some("ValidationError") => {
            format!("Fix role_session_name, external_id or duration_seconds of {}.", hop.origin)
        }
        _ => String::new(),
    };
    ChainError::AssumeFailed {
        origin: hop.origin.clone(),
        role_arn: hop.key.role_arn.clone(),
        error: Box::new(error),
        fix,
    }
    .into()
}

#[cfg(test)]
mod tests;
