//! Where the `sso` (portal), `sso-oidc` and `sts` services live: the endpoint rule sets of the services
//! (regions, partitions, FIPS and dual-stack), and the endpoint overrides users configure through
//! `AWS_ENDPOINT_URL*`, `[services]` sections and `endpoint_url`.

use std::fmt;

use crate::config::AwsConfig;
use crate::env::{self, Environment};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// The portal: accounts, roles, role credentials, logout.
    Sso,
    /// Client registration, device authorization and tokens.
    SsoOidc,
    /// AssumeRole, for the roles a profile chains to (docs/aws-contracts.md §10.3).
    Sts,
}

impl Service {
    /// The service ID, as the AWS models name it.
    pub fn id(self) -> &'static str {
        match self {
            Service::Sso => "SSO",
            Service::SsoOidc => "SSO OIDC",
            Service::Sts => "STS",
        }
    }

    /// `AWS_ENDPOINT_URL_<SERVICE ID, upper-case, spaces as _>`.
    pub fn endpoint_env_var(self) -> &'static str {
        match self {
            Service::Sso => env::AWS_ENDPOINT_URL_SSO,
            Service::SsoOidc => env::AWS_ENDPOINT_URL_SSO_OIDC,
            Service::Sts => env::AWS_ENDPOINT_URL_STS,
        }
    }

    /// The key of this service in a `[services]` section: the snake_case service ID.
    pub fn services_key(self) -> &'static str {
        match self {
            Service::Sso => "sso",
            Service::SsoOidc => "sso_oidc",
            Service::Sts => "sts",
        }
    }

    fn host_prefix(self, fips: bool) -> &'static str {
        match (self, fips) {
            (Service::Sso, false) => "portal.sso",
            (Service::Sso, true) => "portal.sso-fips",
            (Service::SsoOidc, false) => "oidc",
            (Service::SsoOidc, true) => "oidc-fips",
            (Service::Sts, false) => "sts",
            (Service::Sts, true) => "sts-fips",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The inputs of the services' endpoint rule sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointParams {
    pub region: Option<String>,
    pub use_fips: bool,
    pub use_dual_stack: bool,
    /// A configured endpoint, used verbatim.
    pub endpoint: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("Invalid Configuration: Missing Region")]
    MissingRegion,

    #[error("Invalid Configuration: FIPS and custom endpoint are not supported{}", conflict_hint(origin.as_deref(), "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"))]
    FipsWithCustomEndpoint { origin: Option<String> },

    #[error("Invalid Configuration: Dualstack and custom endpoint are not supported{}", conflict_hint(origin.as_deref(), "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"))]
    DualStackWithCustomEndpoint { origin: Option<String> },

    #[error(
        "Invalid Configuration: region {region:?} is not a region name (such as us-east-1): check sso_region in your AWS config"
    )]
    InvalidRegion { region: String },

    #[error(
        "The profile \"{profile}\" is configured to use the services section but the \"{services}\" \
         services configuration does not exist. Add a [services {services}] section to the AWS \
         config file or remove `services = {services}` from the profile."
    )]
    MissingServicesSection { profile: String, services: String },

    #[error(
        "The endpoint URL {url:?} from {origin} is not an http:// or https:// URL: fix or unset it"
    )]
    InvalidEndpointUrl { url: String, origin: String },
}

fn conflict_hint(origin: Option<&str>, variable: &str, key: &str) -> String {
    match origin {
        Some(origin) => {
            format!(" (the endpoint comes from {origin}): unset it, or unset {variable} and {key}")
        }
        None => String::new(),
    }
}

/// One AWS partition: which regions it holds and its DNS suffixes (`partitions.json`).
struct Partition {
    name: &'static str,
    /// Regions matching `^<prefix>-\w+-\d+$`.
    region_prefixes: &'static [&'static str],
    /// Pseudo-regions listed by name in `partitions.json`.
    global_regions: &'static [&'static str],
    dns_suffix: &'static str,
    dual_stack_dns_suffix: &'static str,
}

const PARTITIONS: &[Partition] = &[
    Partition {
        name: "aws",
        region_prefixes: &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
        global_regions: &["aws-global"],
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
    },
    Partition {
        name: "aws-cn",
        region_prefixes: &["cn"],
        global_regions: &["aws-cn-global"],
        dns_suffix: "amazonaws.com.cn",
        dual_stack_dns_suffix: "api.amazonwebservices.com.cn",
    },
    Partition {
        name: "aws-eusc",
        region_prefixes: &["eusc-de"],
        global_regions: &[],
        dns_suffix: "amazonaws.eu",
        dual_stack_dns_suffix: "api.amazonwebservices.eu",
    },
    Partition {
        name: "aws-us-gov",
        region_prefixes: &["us-gov"],
        global_regions: &["aws-us-gov-global"],
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
    },
    Partition {
        name: "aws-iso",
        region_prefixes: &["us-iso"],
        global_regions: &["aws-iso-global"],
        dns_suffix: "c2s.ic.gov",
        dual_stack_dns_suffix: "api.aws.ic.gov",
    },
    Partition {
        name: "aws-iso-b",
        region_prefixes: &["us-isob"],
        global_regions: &["aws-iso-b-global"],
        dns_suffix: "sc2s.sgov.gov",
        dual_stack_dns_suffix: "api.aws.scloud",
    },
    Partition {
        name: "aws-iso-e",
        region_prefixes: &["eu-isoe"],
        global_regions: &["aws-iso-e-global"],
        dns_suffix: "cloud.adc-e.uk",
        dual_stack_dns_suffix: "api.cloud-aws.adc-e.uk",
    },
    Partition {
        name: "aws-iso-f",
        region_prefixes: &["us-isof"],
        global_regions: &["aws-iso-f-global"],
        dns_suffix: "csp.hci.ic.gov",
        dual_stack_dns_suffix: "api.aws.hci.ic.gov",
    },
];

/// The partition of `region`; an unknown region falls back to `aws`, as the rules engine does.
fn partition(region: &str) -> &'static Partition {
    let by_name = PARTITIONS.iter().find(|p| p.global_regions.contains(&region));
    let by_pattern = || {
        PARTITIONS
            .iter()
            .find(|p| p.region_prefixes.iter().any(|prefix| matches_region(region, prefix)))
    };
    by_name.or_else(by_pattern).unwrap_or(&PARTITIONS[0])
}

/// The name of the partition of `region` (`aws`, `aws-cn`, `aws-us-gov`, ...); an unknown region
/// is in `aws`.
pub fn partition_name(region: &str) -> &'static str {
    partition(region).name
}

/// `^<prefix>-\w+-\d+$`.
fn matches_region(region: &str, prefix: &str) -> bool {
    let Some(rest) = region.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let Some((word, digits)) = rest.split_once('-') else { return false };
    !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
}

/// A region goes into a host name: it must be a DNS label.
fn is_host_label(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 63
        && !region.starts_with('-')
        && region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The endpoint rule set of `service` (docs/aws-contracts.md §1.2, §2.1, §10.3).
pub fn resolve(service: Service, params: &EndpointParams) -> Result<String, EndpointError> {
    resolve_with_origin(service, params, None)
}

fn resolve_with_origin(
    service: Service,
    params: &EndpointParams,
    origin: Option<&str>,
) -> Result<String, EndpointError> {
    if let Some(endpoint) = &params.endpoint {
        let origin = origin.map(str::to_owned);
        if params.use_fips {
            return Err(EndpointError::FipsWithCustomEndpoint { origin });
        }
        if params.use_dual_stack {
            return Err(EndpointError::DualStackWithCustomEndpoint { origin });
        }
        return Ok(endpoint.clone());
    }
    let Some(region) = params.region.as_deref().filter(|r| !r.is_empty()) else {
        return Err(EndpointError::MissingRegion);
    };
    if !is_host_label(region) {
        return Err(EndpointError::InvalidRegion { region: region.to_owned() });
    }
    // STS alone keeps one global endpoint, for the pseudo-region `aws-global`.
    if service == Service::Sts
        && region == "aws-global"
        && !params.use_fips
        && !params.use_dual_stack
    {
        return Ok("https://sts.amazonaws.com".to_owned());
    }
    let partition = partition(region);
    let url = match (params.use_fips, params.use_dual_stack) {
        (true, true) => {
            format!(
                "https://{}.{region}.{}",
                service.host_prefix(true),
                partition.dual_stack_dns_suffix
            )
        }
        // GovCloud's regular endpoints are FIPS endpoints already.
        (true, false) if partition.name == "aws-us-gov" => {
            format!("https://{}.{region}.amazonaws.com", service.host_prefix(false))
        }
        (true, false) => {
            format!("https://{}.{region}.{}", service.host_prefix(true), partition.dns_suffix)
        }
        (false, true) => {
            format!(
                "https://{}.{region}.{}",
                service.host_prefix(false),
                partition.dual_stack_dns_suffix
            )
        }
        (false, false) => {
            format!("https://{}.{region}.{}", service.host_prefix(false), partition.dns_suffix)
        }
    };
    Ok(url)
}

/// A configured endpoint and where it was found, for error messages.
struct Configured {
    url: String,
    origin: String,
}

/// The endpoint the user configured for `service`, if any (docs/aws-contracts.md §4.5):
/// `AWS_ENDPOINT_URL_SSO[_OIDC]`, then `AWS_ENDPOINT_URL`, then the profile's `[services]`
/// section, then the profile's `endpoint_url`. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the
/// profile's `ignore_configured_endpoint_urls` turns all of them off. `profile` `None` means the
/// default profile, as in the SDKs.
pub fn configured_endpoint(
    service: Service,
    env: &Environment,
    config: &AwsConfig,
    profile: Option<&str>,
) -> Result<Option<String>, EndpointError> {
    Ok(find_configured(service, env, config, profile)?.map(|c| c.url))
}

fn find_configured(
    service: Service,
    env: &Environment,
    config: &AwsConfig,
    profile: Option<&str>,
) -> Result<Option<Configured>, EndpointError> {
    let profile_name = profile.unwrap_or("default");
    let profile = config.profile(profile_name);
    let ignore = env
        .flag(env::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
        .or_else(|| profile.and_then(|p| p.flag("ignore_configured_endpoint_urls")))
        .unwrap_or(false);
    if ignore {
        return Ok(None);
    }
    for variable in [service.endpoint_env_var(), env::AWS_ENDPOINT_URL] {
        if let Some(url) = env.non_empty(variable) {
            return Ok(Some(Configured { url: url.to_owned(), origin: variable.to_owned() }));
        }
    }
    let Some(profile) = profile else { return Ok(None) };
    if let Some(services) = profile.get("services").filter(|s| !s.is_empty()) {
        let Some(section) = config.services(services) else {
            return Err(EndpointError::MissingServicesSection {
                profile: profile_name.to_owned(),
                services: services.to_owned(),
            });
        };
        if let Some(url) =
            section.sub_property(service.services_key(), "endpoint_url").filter(|u| !u.is_empty())
        {
            return Ok(Some(Configured {
                url: url.to_owned(),
                origin: format!(
                    "[services {services}] ({} = endpoint_url)",
                    service.services_key()
                ),
            }));
        }
    }
    if let Some(url) = profile.get("endpoint_url").filter(|u| !u.is_empty()) {
        return Ok(Some(Configured {
            url: url.to_owned(),
            origin: format!("endpoint_url of profile \"{profile_name}\""),
        }));
    }
    Ok(None)
}

/// The base URL (no trailing slash) to call `service` in `region` with: configured endpoints,
/// FIPS and dual-stack (`AWS_USE_FIPS_ENDPOINT` / `use_fips_endpoint`,
/// `AWS_USE_DUALSTACK_ENDPOINT` / `use_dualstack_endpoint`) all taken into account.
pub fn endpoint_for(
    service: Service,
    region: &str,
    env: &Environment,
    config: &AwsConfig,
    profile: Option<&str>,
) -> Result<String, EndpointError> {
    let configured = find_configured(service, env, config, profile)?;
    let profile = config.profile(profile.unwrap_or("default"));
    let setting = |variable: &str, key: &str| {
        env.flag(variable).or_else(|| profile.and_then(|p| p.flag(key))).unwrap_or(false)
    };
    let params = EndpointParams {
        region: Some(region.to_owned()),
        use_fips: setting(env::AWS_USE_FIPS_ENDPOINT, "use_fips_endpoint"),
        use_dual_stack: setting(env::AWS_USE_DUALSTACK_ENDPOINT, "use_dualstack_endpoint"),
        endpoint: configured.as_ref().map(|c| c.url.clone()),
    };
    let origin = configured.as_ref().map(|c| c.origin.as_str());
    let url = resolve_with_origin(service, &params, origin)?;
    if let Some(configured) = configured {
        let lower = url.to_ascii_lowercase();
        let has_host =
            |scheme: &str| lower.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty());
        if !has_host("http://") && !has_host("https://") {
            return Err(EndpointError::InvalidEndpointUrl { url, origin: configured.origin });
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    fn config(text: &str) -> AwsConfig {
        AwsConfig::parse(Some(text), None).expect("valid config")
    }

    const LAYERED: &str = "\
[default]
endpoint_url = http://default-profile

[profile dev]
services = local
endpoint_url = http://dev-profile

[profile plain]
endpoint_url = http://plain-profile/

[profile half]
services = only-oidc
endpoint_url = http://half-profile

[profile broken]
services = nowhere

[profile ignoring]
ignore_configured_endpoint_urls = true
endpoint_url = http://ignored

[services local]
sso =
  endpoint_url = http://services-sso
sso_oidc =
  endpoint_url = http://services-oidc

[services only-oidc]
sso_oidc =
  endpoint_url = http://only-oidc
";

    fn configured(
        service: Service,
        vars: &[(&str, &str)],
        profile: Option<&str>,
    ) -> Option<String> {
        configured_endpoint(service, &env(vars), &config(LAYERED), profile).expect("no error")
    }

    #[test]
    fn service_variable_beats_global_variable_beats_config() {
        let both = [
            ("AWS_ENDPOINT_URL_SSO_OIDC", "http://env-oidc"),
            ("AWS_ENDPOINT_URL", "http://env-all"),
        ];
        assert_eq!(
            configured(Service::SsoOidc, &both, Some("dev")).as_deref(),
            Some("http://env-oidc")
        );
        assert_eq!(configured(Service::Sso, &both, Some("dev")).as_deref(), Some("http://env-all"));
        let sso = [("AWS_ENDPOINT_URL_SSO", "http://env-sso")];
        assert_eq!(configured(Service::Sso, &sso, Some("dev")).as_deref(), Some("http://env-sso"));
        assert_eq!(
            configured(Service::SsoOidc, &sso, Some("dev")).as_deref(),
            Some("http://services-oidc")
        );
    }

    #[test]
    fn services_section_beats_profile_endpoint_url() {
        assert_eq!(
            configured(Service::Sso, &[], Some("dev")).as_deref(),
            Some("http://services-sso")
        );
        assert_eq!(
            configured(Service::SsoOidc, &[], Some("dev")).as_deref(),
            Some("http://services-oidc")
        );
        // A services section without this service falls through to the profile's endpoint_url.
        assert_eq!(
            configured(Service::Sso, &[], Some("half")).as_deref(),
            Some("http://half-profile")
        );
        assert_eq!(
            configured(Service::SsoOidc, &[], Some("half")).as_deref(),
            Some("http://only-oidc")
        );
    }

    #[test]
    fn no_profile_means_the_default_profile() {
        assert_eq!(configured(Service::Sso, &[], None).as_deref(), Some("http://default-profile"));
        assert_eq!(configured(Service::Sso, &[], Some("missing")), None);
    }

    #[test]
    fn the_ignore_switch_turns_every_source_off() {
        let all = [
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
            ("AWS_ENDPOINT_URL_SSO", "http://env-sso"),
            ("AWS_ENDPOINT_URL", "http://env-all"),
        ];
        assert_eq!(configured(Service::Sso, &all, Some("dev")), None);
        assert_eq!(configured(Service::Sso, &all[..1], Some("broken")), None);
        assert_eq!(configured(Service::Sso, &[], Some("ignoring")), None);
        assert_eq!(
            configured(Service::Sso, &[("AWS_ENDPOINT_URL", "http://env-all")], Some("ignoring")),
            None
        );
        // The variable, when set, decides over the profile setting.
        let off = [("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false")];
        assert_eq!(
            configured(Service::Sso, &off, Some("ignoring")).as_deref(),
            Some("http://ignored")
        );
    }

    #[test]
    fn a_missing_services_section_is_an_error_naming_it() {
        let err = configured_endpoint(Service::Sso, &env(&[]), &config(LAYERED), Some("broken"))
            .expect_err("missing section");
        assert_eq!(
            err,
            EndpointError::MissingServicesSection {
                profile: "broken".into(),
                services: "nowhere".into()
            }
        );
        assert!(err.to_string().contains("\"nowhere\" services configuration does not exist"));
        // Environment variables come first, so they still work.
        let vars = [("AWS_ENDPOINT_URL", "http://env-all")];
        assert_eq!(
            configured(Service::Sso, &vars, Some("broken")).as_deref(),
            Some("http://env-all")
        );
    }

    #[test]
    fn endpoint_for_builds_base_urls_from_region_and_settings() {
        let empty = config("");
        let url = |vars: &[(&str, &str)]| {
            endpoint_for(Service::SsoOidc, "us-east-2", &env(vars), &empty, None).expect("resolves")
        };
        assert_eq!(url(&[]), "https://oidc.us-east-2.amazonaws.com");
        assert_eq!(
            url(&[("AWS_USE_FIPS_ENDPOINT", "true")]),
            "https://oidc-fips.us-east-2.amazonaws.com"
        );
        assert_eq!(
            url(&[("AWS_USE_FIPS_ENDPOINT", "true"), ("AWS_USE_DUALSTACK_ENDPOINT", "true")]),
            "https://oidc-fips.us-east-2.api.aws"
        );
        let fips_profile =
            config("[profile gov]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n");
        assert_eq!(
            endpoint_for(Service::Sso, "us-east-2", &env(&[]), &fips_profile, Some("gov"))
                .expect("ok"),
            "https://portal.sso-fips.us-east-2.api.aws"
        );
        assert_eq!(
            endpoint_for(
                Service::Sso,
                "us-east-2",
                &env(&[("AWS_USE_FIPS_ENDPOINT", "false")]),
                &fips_profile,
                Some("gov")
            )
            .expect("ok"),
            "https://portal.sso.us-east-2.api.aws"
        );
    }

    #[test]
    fn endpoint_for_uses_overrides_without_trailing_slash() {
        let c = config(LAYERED);
        let url =
            endpoint_for(Service::Sso, "eu-west-1", &env(&[]), &c, Some("plain")).expect("ok");
        assert_eq!(url, "http://plain-profile");
        let vars = [("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:4566/")];
        let url =
            endpoint_for(Service::SsoOidc, "eu-west-1", &env(&vars), &c, Some("dev")).expect("ok");
        assert_eq!(url, "http://127.0.0.1:4566");
    }

    #[test]
    fn endpoint_for_explains_conflicts_and_bad_urls() {
        let c = config("");
        let vars = [("AWS_ENDPOINT_URL_SSO", "http://local"), ("AWS_USE_FIPS_ENDPOINT", "true")];
        let err =
            endpoint_for(Service::Sso, "us-east-1", &env(&vars), &c, None).expect_err("conflict");
        let text = err.to_string();
        assert!(
            text.starts_with("Invalid Configuration: FIPS and custom endpoint are not supported")
        );
        assert!(text.contains("AWS_ENDPOINT_URL_SSO"), "{text}");

        let vars = [("AWS_ENDPOINT_URL", "localhost:4566")];
        let err =
            endpoint_for(Service::Sso, "us-east-1", &env(&vars), &c, None).expect_err("bad url");
        assert!(
            matches!(err, EndpointError::InvalidEndpointUrl { ref origin, .. } if origin == "AWS_ENDPOINT_URL")
        );
    }

    #[test]
    fn regions_that_are_not_host_labels_are_refused() {
        for region in ["evil.com/x", "us east 1", "-x", ""] {
            let params = EndpointParams { region: Some(region.into()), ..Default::default() };
            assert!(resolve(Service::Sso, &params).is_err(), "{region}");
        }
    }

    #[test]
    fn partitions_by_region() {
        assert_eq!(partition("eu-isoe-west-1").name, "aws-iso-e");
        assert_eq!(partition("us-isof-south-1").name, "aws-iso-f");
        assert_eq!(partition("eusc-de-east-1").name, "aws-eusc");
        assert_eq!(partition("aws-us-gov-global").name, "aws-us-gov");
        assert_eq!(partition("mars-east-1").name, "aws");
        let url = |region: &str| {
            resolve(
                Service::SsoOidc,
                &EndpointParams { region: Some(region.into()), ..Default::default() },
            )
            .expect("resolves")
        };
        assert_eq!(url("eusc-de-east-1"), "https://oidc.eusc-de-east-1.amazonaws.eu");
        assert_eq!(url("mars-east-1"), "https://oidc.mars-east-1.amazonaws.com");
    }

    /// The cases of the `sts` rule set (botocore's `endpoint-rule-set-1.json`) for regional
    /// endpoints: partitions, FIPS (GovCloud's regular endpoint is FIPS already), dual-stack,
    /// the global pseudo-region.
    #[test]
    fn sts_endpoints_are_regional_and_partition_aware() {
        let url = |region: &str, fips: bool, dual: bool| {
            let params = EndpointParams {
                region: Some(region.to_owned()),
                use_fips: fips,
                use_dual_stack: dual,
                endpoint: None,
            };
            resolve(Service::Sts, &params).expect("resolves")
        };
        assert_eq!(url("eu-west-1", false, false), "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(url("cn-north-1", false, false), "https://sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(url("us-east-1", true, false), "https://sts-fips.us-east-1.amazonaws.com");
        assert_eq!(url("us-gov-west-1", true, false), "https://sts.us-gov-west-1.amazonaws.com");
        assert_eq!(url("us-east-1", false, true), "https://sts.us-east-1.api.aws");
        assert_eq!(url("us-east-1", true, true), "https://sts-fips.us-east-1.api.aws");
        assert_eq!(url("aws-global", false, false), "https://sts.amazonaws.com");
    }

    #[test]
    fn sts_endpoints_are_configured_as_the_others_are() {
        let services = "[profile dev]\nservices = local\n[services local]\nsts =\n  endpoint_url = http://services-sts\n";
        let from = |vars: &[(&str, &str)], text: &str| {
            endpoint_for(Service::Sts, "eu-west-1", &env(vars), &config(text), Some("dev"))
        };
        assert_eq!(from(&[], services).as_deref(), Ok("http://services-sts"));
        assert_eq!(
            from(&[("AWS_ENDPOINT_URL", "http://all")], services).as_deref(),
            Ok("http://all")
        );
        assert_eq!(
            from(
                &[("AWS_ENDPOINT_URL_STS", "http://sts/"), ("AWS_ENDPOINT_URL", "http://all")],
                services
            )
            .as_deref(),
            Ok("http://sts")
        );
        // The SSO variable moves the portal only.
        assert_eq!(
            from(&[("AWS_ENDPOINT_URL_SSO", "http://sso")], "[profile dev]\n").as_deref(),
            Ok("https://sts.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            from(&[("AWS_USE_FIPS_ENDPOINT", "true")], "[profile dev]\n").as_deref(),
            Ok("https://sts-fips.eu-west-1.amazonaws.com")
        );
        assert!(from(&[("AWS_USE_FIPS_ENDPOINT", "true")], services).is_err());
    }
}
