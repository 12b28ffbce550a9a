//! Everything a command reads once at start, and the clients built from it.

use std::sync::Arc;

use crate::cache::CacheDirs;
use crate::config::settings::{LoadMode, Settings};
use crate::config::{AwsConfig, ConfigFiles, selected_profile};
use crate::endpoint::{self, Service};
use crate::env::Environment;
use crate::error::Result;
use crate::http::{HttpClient, HttpSettings};
use crate::oidc::OidcClient;
use crate::portal::PortalClient;
use crate::target::SessionTarget;

/// Everything a command reads once at start: environment, AWS config, our settings, cache
/// locations. The HTTP client inside is built only when a call is made.
pub struct Context {
    pub env: Environment,
    pub files: ConfigFiles,
    pub config: AwsConfig,
    pub settings: Settings,
    pub caches: CacheDirs,
    /// What was wrong with `config.yaml` that did not stop it being read (unknown keys; in
    /// [`LoadMode::Lenient`], values replaced by their default). [`Context::load`] has already
    /// logged them as warnings; the shell hook, whose log is quiet, shows them itself.
    pub settings_warnings: Vec<String>,
    pub(super) http: Arc<HttpClient>,
}

impl Context {
    /// Reads everything once. `profile` is `--profile` when given; else `AWS_PROFILE` is used
    /// for the profile-level settings read here (`ca_bundle`).
    pub fn load(env: Environment, profile: Option<&str>) -> Result<Self> {
        Self::load_with(env, profile, LoadMode::Strict)
    }

    /// [`Context::load`] for `credential-process` and the shell hook: a value of `config.yaml`
    /// that cannot be used is a warning and that key's default, not an error that would break
    /// every SDK call and every prompt.
    pub fn load_lenient(env: Environment, profile: Option<&str>) -> Result<Self> {
        Self::load_with(env, profile, LoadMode::Lenient)
    }

    fn load_with(env: Environment, profile: Option<&str>, mode: LoadMode) -> Result<Self> {
        let files = ConfigFiles::locate(&env)?;
        let config = AwsConfig::load(&files)?;
        let loaded = Settings::load_with(&env, mode)?;
        for warning in &loaded.warnings {
            tracing::warn!("{warning}");
        }
        let (settings, settings_warnings) = (loaded.settings, loaded.warnings);
        let caches = CacheDirs::from_env(&env)?;
        let profile = profile.map(str::to_owned).or_else(|| selected_profile(&env));
        let ca_bundle = config
            .profile(profile.as_deref().unwrap_or("default"))
            .and_then(|p| p.get("ca_bundle"));
        let http = HttpSettings::from_env(&env).with_profile_ca_bundle(ca_bundle);
        Ok(Self {
            env,
            files,
            config,
            settings,
            caches,
            settings_warnings,
            http: Arc::new(HttpClient::new(http)),
        })
    }

    pub(super) fn oidc_client(&self, target: &SessionTarget) -> Result<OidcClient> {
        target.require_region()?;
        let url = endpoint::endpoint_for(
            Service::SsoOidc,
            &target.region,
            &self.env,
            &self.config,
            target.profile.as_deref(),
        )?;
        Ok(OidcClient::new(url, Arc::clone(&self.http)))
    }

    pub fn portal_client(&self, target: &SessionTarget) -> Result<PortalClient> {
        target.require_region()?;
        self.portal_client_for_region(&target.region, target.profile.as_deref())
    }

    pub(super) fn portal_client_for_region(
        &self,
        region: &str,
        profile: Option<&str>,
    ) -> Result<PortalClient> {
        let url = endpoint::endpoint_for(Service::Sso, region, &self.env, &self.config, profile)?;
        Ok(PortalClient::new(url, Arc::clone(&self.http)))
    }

    /// An STS client for `region`, at the endpoint `profile` configures (as for the portal).
    pub fn sts_client(&self, region: &str, profile: Option<&str>) -> Result<crate::sts::StsClient> {
        let url = endpoint::endpoint_for(Service::Sts, region, &self.env, &self.config, profile)?;
        Ok(crate::sts::StsClient::new(url, region, Arc::clone(&self.http)))
    }

    /// The same context with other HTTP settings: the shell hook bounds its one call tighter
    /// than a command the user waits for.
    pub fn with_http_settings(mut self, change: impl FnOnce(HttpSettings) -> HttpSettings) -> Self {
        self.http = Arc::new(HttpClient::new(change(self.http.settings().clone())));
        self
    }
}
