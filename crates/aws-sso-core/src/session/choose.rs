//! Which session a command means.

use super::Context;
use crate::config::selected_profile;
use crate::error::Result;
use crate::start_url;
use crate::target::{SessionError, SessionRequest, SessionTarget};

/// Finds the session a command means (docs/ARCHITECTURE.md §7): `--sso-session`, else `--profile`'s
/// `sso_session`, else the project file's `sso_session`, else `AWS_PROFILE`'s (when that profile
/// reaches IAM Identity Center, itself or through its `source_profile` chain; another one, left
/// in the shell from other work, is passed over), else `default_session` of config.yaml, else the
/// only `[sso-session]` of the config.
pub fn resolve(ctx: &Context, request: &SessionRequest) -> Result<SessionTarget> {
    let env_profile = selected_profile(&ctx.env);
    if let Some(name) = &request.sso_session {
        let profile = request.profile.clone().or(env_profile);
        return session_target(ctx, name, profile);
    }
    if let Some(profile) = &request.profile {
        // A chained profile's session is its root's.
        let root = identity_center_root(ctx, profile).unwrap_or_else(|| profile.clone());
        return profile_target(ctx, &root);
    }
    if let Some(name) = &request.project_session {
        return session_target(ctx, name, env_profile);
    }
    if let Some(profile) = &env_profile
        && ctx.config.profile(profile).is_some()
    {
        match identity_center_root(ctx, profile) {
            Some(root) => return profile_target(ctx, &root),
            None => tracing::debug!(
                "AWS_PROFILE names profile {profile}, which does not reach IAM Identity Center; passed over"
            ),
        }
    }
    if let Some(name) = &ctx.settings.default_session {
        return session_target(ctx, name, env_profile).map_err(|e| match e {
            crate::Error::Config(crate::config::ConfigError::SsoSessionNotFound { .. }) => {
                SessionError::DefaultSessionNotFound {
                    name: name.clone(),
                    settings: crate::config::settings::Settings::path(&ctx.env).unwrap_or_default(),
                    cause: e.to_string(),
                }
                .into()
            }
            e => e,
        });
    }
    let names = ctx.config.sso_session_names();
    match names.as_slice() {
        [] => Err(SessionError::NoneConfigured { config: ctx.files.config.clone() }.into()),
        [only] => session_target(ctx, only, env_profile),
        _ => Err(SessionError::Ambiguous {
            config: ctx.files.config.clone(),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        }
        .into()),
    }
}

/// Every `[sso-session]` of the config, in its order; one that cannot be read is left out.
pub fn every_session(ctx: &Context) -> Vec<SessionTarget> {
    ctx.config
        .sso_session_names()
        .into_iter()
        .filter_map(|name| session_target(ctx, name, None).ok())
        .collect()
}

/// Every `[sso-session]` whose login is usable now or can be refreshed: what a choice among
/// several sessions offers.
pub fn logged_in_sessions(ctx: &Context) -> Vec<SessionTarget> {
    let now = jiff::Timestamp::now();
    every_session(ctx)
        .into_iter()
        .filter(|target| match super::read_token(ctx, target) {
            super::TokenState::Present(t) => {
                t.remaining(now) > jiff::SignedDuration::ZERO || t.is_refreshable(now)
            }
            _ => false,
        })
        .collect()
}

/// The profile of `name`'s chain that holds the IAM Identity Center settings: `name` itself when
/// it has `sso_session` or `sso_start_url`, else the first such profile its `source_profile`
/// chain reaches (a chained role's root, as the AWS CLI follows it); `None` when the chain ends
/// without one, loops, or names a profile that does not exist.
pub fn identity_center_root(ctx: &Context, name: &str) -> Option<String> {
    let mut seen = Vec::new();
    let mut current = name.to_owned();
    loop {
        let profile = ctx.config.profile(&current)?;
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            return Some(current);
        }
        seen.push(current);
        let next = profile.get("source_profile")?.trim().to_owned();
        if next.is_empty() || seen.contains(&next) {
            return None;
        }
        current = next;
    }
}

pub(super) fn session_target(
    ctx: &Context,
    name: &str,
    profile: Option<String>,
) -> Result<SessionTarget> {
    let session = ctx.config.sso_session(name)?;
    Ok(SessionTarget {
        session_name: Some(session.name),
        profile,
        start_url: session.start_url,
        region: session.region,
        scopes: session.registration_scopes,
    })
}

pub(super) fn profile_target(ctx: &Context, name: &str) -> Result<SessionTarget> {
    let config_path = ctx.files.config.clone();
    let Some(profile) = ctx.config.profile(name) else {
        return Err(
            SessionError::no_such_profile(name, config_path, ctx.config.profile_names()).into()
        );
    };
    if let Some(session) = profile.get("sso_session") {
        return session_target(ctx, session, Some(name.to_owned()));
    }
    let region = profile.get("sso_region").or_else(|| {
        // As for a session: a custom-domain start URL may leave the region to the login.
        profile.get("sso_start_url").filter(|url| start_url::may_name_the_region(url)).map(|_| "")
    });
    match (profile.get("sso_start_url"), region) {
        (Some(start_url), Some(region)) => Ok(SessionTarget {
            session_name: None,
            profile: Some(name.to_owned()),
            start_url: start_url.to_owned(),
            region: region.to_owned(),
            scopes: None,
        }),
        (None, None) => {
            Err(SessionError::NotSsoProfile { profile: name.to_owned(), config: config_path }
                .into())
        }
        (start_url, _) => Err(SessionError::IncompleteProfile {
            profile: name.to_owned(),
            config: config_path,
            missing: if start_url.is_none() { "sso_start_url" } else { "sso_region" }.to_owned(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env;
    use crate::session::testing::{CORP, Home, with_corp};

    /// What follows the `corp` session in this module's config.
    const TWO_SESSIONS_REST: &str = "\
[sso-session lab]
sso_start_url = https://lab.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access, codewhisperer:completions

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev

[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = eu-central-1

[profile half]
sso_start_url = https://old.awsapps.com/start

[profile keys]
region = eu-west-1
";

    fn chosen(home: &Home, request: SessionRequest) -> Result<SessionTarget> {
        resolve(&home.context(), &request)
    }

    fn names(target: &SessionTarget) -> (Option<&str>, Option<&str>) {
        (target.session_name.as_deref(), target.profile.as_deref())
    }

    #[test]
    fn the_flag_wins_and_keeps_aws_profile_for_the_profile_settings() {
        let home = Home::new(&with_corp(TWO_SESSIONS_REST)).with_var(env::AWS_PROFILE, "dev");
        let request = SessionRequest {
            sso_session: Some("lab".into()),
            project_session: Some("corp".into()),
            ..Default::default()
        };
        let target = chosen(&home, request).expect("lab");
        assert_eq!(names(&target), (Some("lab"), Some("dev")));
        assert_eq!(target.region, "us-east-1");
        assert_eq!(
            target.scopes.as_deref(),
            Some(&["sso:account:access".to_owned(), "codewhisperer:completions".to_owned()][..])
        );
    }

    #[test]
    fn a_profile_flag_means_its_session_before_the_project_file() {
        let home = Home::new(&with_corp(TWO_SESSIONS_REST));
        let request = SessionRequest {
            profile: Some("dev".into()),
            project_session: Some("lab".into()),
            ..Default::default()
        };
        assert_eq!(names(&chosen(&home, request).expect("corp")), (Some("corp"), Some("dev")));
    }

    #[test]
    fn the_project_file_comes_before_aws_profile() {
        let home = Home::new(&with_corp(TWO_SESSIONS_REST)).with_var(env::AWS_PROFILE, "dev");
        let request = SessionRequest { project_session: Some("lab".into()), ..Default::default() };
        assert_eq!(names(&chosen(&home, request).expect("lab")), (Some("lab"), Some("dev")));
        let home = Home::new(&with_corp(TWO_SESSIONS_REST)).with_var(env::AWS_PROFILE, "dev");
        let target = chosen(&home, SessionRequest::default()).expect("corp");
        assert_eq!(names(&target), (Some("corp"), Some("dev")));
    }

    #[test]
    fn with_nothing_named_the_only_session_is_chosen_and_several_are_an_error() {
        let only = Home::new(CORP);
        assert_eq!(
            names(&chosen(&only, SessionRequest::default()).expect("corp")),
            (Some("corp"), None)
        );
        let two = Home::new(&with_corp(TWO_SESSIONS_REST));
        let err = chosen(&two, SessionRequest::default()).expect_err("ambiguous").to_string();
        assert!(err.contains("(corp, lab)") && err.contains("--sso-session NAME"), "{err}");
        let none = Home::new("[profile keys]\nregion = eu-west-1\n");
        let err = chosen(&none, SessionRequest::default()).expect_err("none").to_string();
        assert!(err.contains("aws-sso-login configure --sso-session NAME"), "{err}");
    }

    #[test]
    fn a_legacy_profile_is_its_own_session() {
        let home = Home::new(&with_corp(TWO_SESSIONS_REST));
        let request = SessionRequest { profile: Some("legacy".into()), ..Default::default() };
        let target = chosen(&home, request).expect("legacy");
        assert_eq!(names(&target), (None, Some("legacy")));
        assert_eq!(target.start_url, "https://old.awsapps.com/start");
        assert_eq!(target.token_identifier(), "https://old.awsapps.com/start");
        assert_eq!(target.selector(), "--profile legacy");
    }

    #[test]
    fn profiles_that_cannot_log_in_say_why() {
        let home = Home::new(&with_corp(TWO_SESSIONS_REST));
        let by = |name: &str| {
            let request = SessionRequest { profile: Some(name.into()), ..Default::default() };
            chosen(&home, request).expect_err(name).to_string()
        };
        assert!(by("half").contains("is missing sso_region"), "{}", by("half"));
        assert!(by("keys").contains("does not use IAM Identity Center"), "{}", by("keys"));
        let missing = by("nope");
        assert!(
            missing.contains("\"nope\" does not exist")
                && missing.contains("dev, half, keys, legacy"),
            "{missing}"
        );
    }

    /// A profile with only static keys, one chained to `dev`, and a chain that loops.
    const STRAY_PROFILES: &str = "\
[profile chained]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = hop

[profile hop]
role_arn = arn:aws:iam::333333333333:role/Hop
source_profile = dev

[profile loop-a]
source_profile = loop-b

[profile loop-b]
source_profile = loop-a
";

    #[test]
    fn a_stray_aws_profile_without_identity_center_is_passed_over() {
        let config = with_corp(&format!("{TWO_SESSIONS_REST}{STRAY_PROFILES}"));
        for stray in ["keys", "loop-a"] {
            // One session left once the stray profile is passed over… (lab removed)
            let one = Home::new(&config.replace("[sso-session lab]", "[profile lab-was]"))
                .with_var(env::AWS_PROFILE, stray);
            let target = chosen(&one, SessionRequest::default()).expect(stray);
            assert_eq!(names(&target), (Some("corp"), Some(stray)));
            // …and with two, the error is the usual one about several sessions.
            let two = Home::new(&config).with_var(env::AWS_PROFILE, stray);
            let err = chosen(&two, SessionRequest::default()).expect_err(stray).to_string();
            assert!(err.contains("Several sso-sessions"), "{stray}: {err}");
        }
        // A chain that reaches an Identity Center profile chooses that profile's session.
        let home = Home::new(&config).with_var(env::AWS_PROFILE, "chained");
        let target = chosen(&home, SessionRequest::default()).expect("chained");
        assert_eq!(names(&target), (Some("corp"), Some("dev")));
        // Named on the command line, a profile must be usable, and the error says what to do.
        let request = SessionRequest { profile: Some("keys".into()), ..Default::default() };
        let err = chosen(&home, request).expect_err("keys").to_string();
        assert!(err.contains("--sso-session NAME") && err.contains("unset AWS_PROFILE"), "{err}");
    }

    #[test]
    fn default_session_chooses_among_several_after_aws_profile() {
        let home = Home::new(&with_corp(TWO_SESSIONS_REST)).settings("default_session: lab\n");
        assert_eq!(
            names(&chosen(&home, SessionRequest::default()).expect("lab")),
            (Some("lab"), None)
        );
        // AWS_PROFILE and the project file still come first.
        let home = home.with_var(env::AWS_PROFILE, "dev");
        assert_eq!(names(&chosen(&home, SessionRequest::default()).expect("dev")).0, Some("corp"));
        let home = Home::new(&with_corp(TWO_SESSIONS_REST)).settings("default_session: lba\n");
        let err = chosen(&home, SessionRequest::default()).expect_err("typo").to_string();
        assert!(err.starts_with("default_session in ") && err.contains("lba"), "{err}");
        assert!(err.ends_with("Fix default_session, or remove it."), "{err}");
    }
}
