//! Start URLs on a custom domain ("vanity" URLs): before a login, a start URL whose host is not
//! AWS's is resolved to the access portal it redirects to, as the AWS CLI does since 2.35.13
//! (docs/aws-contracts.md §6.1, `resolve.py`). One `HEAD` without following redirects (`GET` when
//! `HEAD` is refused), one hop; the portal's host may also name its region.
//!
//! The resolved URL is what the service sees (`startUrl` of StartDeviceAuthorization, `issuerUrl`
//! of RegisterClient); the cache keys and the token's `startUrl` keep the URL as configured, so
//! the AWS CLI and the SDKs find the same files.

use std::time::Duration;

use reqwest::Url;

use crate::exit::ErrorKind;
use crate::http::HttpClient;

/// How long the one request may take, as the AWS CLI allows.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Hosts under these suffixes are AWS's: their start URLs are used as they are.
const AWS_OWNED_SUFFIXES: [&str; 8] = [
    ".app.aws",
    ".portal.amazonaws.com",
    ".portal.amazonaws.com.cn",
    ".app.amazonwebservices.com.cn",
    ".portal.amazonaws.eu",
    ".api.amazonwebservices.eu",
    ".awsapps.com",
    ".awsapps.cn",
];

/// And these exact hosts.
const AWS_OWNED_HOSTS: [&str; 4] = [
    "identitycenter.amazonaws.com",
    "identitycenter.amazonaws.com.cn",
    "identitycenter.amazonaws.eu",
    "identitycenter.us-gov.amazonaws.com",
];

/// The start URL to log in with, and the region of IAM Identity Center.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedStartUrl {
    pub url: String,
    pub region: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StartUrlError {
    #[error(
        "The start URL {url} does not use https. Write sso_start_url as https://…, e.g. \
         https://d-1234567890.awsapps.com/start."
    )]
    NotHttps { url: String },
    #[error(
        "The start URL {url} is not a URL with a host name ({detail}). Write sso_start_url as \
         https://…, e.g. https://d-1234567890.awsapps.com/start."
    )]
    Invalid { url: String, detail: String },
    #[error(
        "Could not reach the start URL {url} to find the access portal it leads to: {detail}. \
         Check the URL, or write your portal's own URL (https://d-….awsapps.com/start) instead."
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "The start URL {url} answered HTTP {status} instead of leading to an access portal. \
         Check the URL, or write your portal's own URL (https://d-….awsapps.com/start) instead."
    )]
    Status { url: String, status: u16 },
    #[error(
        "The start URL {url} leads to {resolved}, which is not an AWS access portal. Write your \
         portal's own URL (https://d-….awsapps.com/start) as sso_start_url."
    )]
    NotAws { url: String, resolved: String },
    #[error(
        "The start URL {url} leads to {resolved}, whose address does not name its region, and \
         no sso_region is set. Set sso_region to the region of IAM Identity Center."
    )]
    NoRegion { url: String, resolved: String },
}

impl StartUrlError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StartUrlError::Unreachable { .. } | StartUrlError::Status { .. } => ErrorKind::Failure,
            _ => ErrorKind::Usage,
        }
    }
}

/// Whether `host` is one of AWS's access-portal hosts.
pub fn is_aws_owned(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    AWS_OWNED_HOSTS.contains(&host.as_str())
        || AWS_OWNED_SUFFIXES
            .iter()
            .any(|suffix| host.ends_with(suffix) || host == suffix.trim_start_matches('.'))
}

/// Whether a login may learn the region from where `start_url` leads: an https URL (or http on
/// loopback) on a host that is not AWS's. Such a session may leave `sso_region` out.
pub fn may_name_the_region(start_url: &str) -> bool {
    parse(start_url).is_ok_and(|url| !is_aws_owned(url.host_str().unwrap_or_default()))
}

/// The region an access portal's host names: `{id}.portal.{region}.app.aws`,
/// `{id}.{region}.portal.amazonaws.com` (and `.com.cn`, `.eu`),
/// `{id}.portal.{region}.app.amazonwebservices.com.cn`, `{id}.portal.{region}.api.amazonwebservices.eu`.
pub fn region_of(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let region = match labels.as_slice() {
        [_, "portal", region, "app", "aws"]
        | [_, region, "portal", "amazonaws", "com"]
        | [_, region, "portal", "amazonaws", "com", "cn"]
        | [_, region, "portal", "amazonaws", "eu"]
        | [_, "portal", region, "app", "amazonwebservices", "com", "cn"]
        | [_, "portal", region, "api", "amazonwebservices", "eu"] => *region,
        _ => return None,
    };
    let plausible = !region.is_empty()
        && labels[0].len() <= 63
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plausible.then(|| region.to_owned())
}

/// Resolves `start_url` for a login: an AWS host as it is, with `configured_region`; another
/// host through the one redirect it answers with.
///
/// Plain `http` is refused except on a loopback address, where a local emulator serves it.
pub async fn resolve(
    http: &HttpClient,
    start_url: &str,
    configured_region: &str,
) -> Result<ResolvedStartUrl, StartUrlError> {
    let url = parse(start_url)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    if is_aws_owned(&host) {
        return Ok(ResolvedStartUrl {
            url: start_url.to_owned(),
            region: configured_region.to_owned(),
        });
    }
    let location = follow_one_redirect(http, &url).await?;
    let resolved = normalize(&location);
    let resolved_host = location.host_str().unwrap_or_default();
    if location.scheme() != "https" || !is_aws_owned(resolved_host) {
        return Err(StartUrlError::NotAws { url: start_url.to_owned(), resolved });
    }
    let region = region_of(resolved_host).unwrap_or_else(|| configured_region.to_owned());
    if region.is_empty() {
        return Err(StartUrlError::NoRegion { url: start_url.to_owned(), resolved });
    }
    tracing::debug!("the start URL {start_url} leads to {resolved} in {region}");
    Ok(ResolvedStartUrl { url: resolved, region })
}

fn parse(start_url: &str) -> Result<Url, StartUrlError> {
    let invalid = |detail: String| StartUrlError::Invalid { url: start_url.to_owned(), detail };
    // `d-1234567890.awsapps.com/start`: the scheme is what is missing.
    if !start_url.contains("://") {
        return Err(StartUrlError::NotHttps { url: start_url.to_owned() });
    }
    let url = Url::parse(start_url).map_err(|e| invalid(e.to_string()))?;
    let Some(host) = url.host_str() else { return Err(invalid("no host".to_owned())) };
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(StartUrlError::NotHttps { url: start_url.to_owned() }),
    }
}

/// Where `url` redirects, or `url` itself when it answers without a redirect. Only one hop:
/// the target is not requested.
async fn follow_one_redirect(http: &HttpClient, url: &Url) -> Result<Url, StartUrlError> {
    let unreachable = |detail: String| StartUrlError::Unreachable { url: url.to_string(), detail };
    let client = http.client_without_redirects().map_err(|e| unreachable(e.to_string()))?;
    let send = |method| async {
        client
            .request(method, url.clone())
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| unreachable(crate::http::innermost(&e)))
    };
    let mut response = send(reqwest::Method::HEAD).await?;
    // Some servers refuse HEAD: ask again with GET.
    if matches!(response.status().as_u16(), 405 | 501) {
        response = send(reqwest::Method::GET).await?;
    }
    let status = response.status().as_u16();
    match status {
        301 | 302 | 303 | 307 | 308 => {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| unreachable(format!("HTTP {status} without a Location")))?;
            url.join(location).map_err(|e| unreachable(format!("the Location {location}: {e}")))
        }
        200..=299 => Ok(url.clone()),
        _ => Err(StartUrlError::Status { url: url.to_string(), status }),
    }
}

/// Lower-case host, no default port, no query or fragment, no trailing `/`.
fn normalize(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = match (url.port(), url.port_or_known_default()) {
        (Some(port), _) => format!(":{port}"),
        _ => String::new(),
    };
    format!("{}://{host}{port}{}", url.scheme(), url.path().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpSettings;
    use crate::http::test_server::{Canned, TestServer};

    #[test]
    fn aws_hosts_are_known_by_suffix_and_by_name() {
        for host in [
            "d-1234567890.awsapps.com",
            "mycompany.awsapps.com",
            "ssoins-1111.portal.eu-west-1.app.aws",
            "d-9067.awsapps.cn",
            "identitycenter.amazonaws.com",
            "IdentityCenter.AmazonAWS.com.",
            "x.eu-central-1.portal.amazonaws.com",
        ] {
            assert!(is_aws_owned(host), "{host}");
        }
        for host in
            ["sso.example.com", "awsapps.com.evil.example", "evilawsapps.com", "app.aws.example"]
        {
            assert!(!is_aws_owned(host), "{host}");
        }
    }

    #[test]
    fn the_region_comes_from_the_portal_host_when_it_names_one() {
        for (host, region) in [
            ("ssoins-1111.portal.eu-west-1.app.aws", Some("eu-west-1")),
            ("ssoins-1111.ap-southeast-2.portal.amazonaws.com", Some("ap-southeast-2")),
            ("x.cn-north-1.portal.amazonaws.com.cn", Some("cn-north-1")),
            ("x.eusc-de-east-1.portal.amazonaws.eu", Some("eusc-de-east-1")),
            ("x.portal.cn-northwest-1.app.amazonwebservices.com.cn", Some("cn-northwest-1")),
            ("x.portal.eusc-de-east-1.api.amazonwebservices.eu", Some("eusc-de-east-1")),
            ("d-1234567890.awsapps.com", None),
            ("a.b.portal.eu-west-1.app.aws", None),
        ] {
            assert_eq!(region_of(host).as_deref(), region, "{host}");
        }
    }

    #[test]
    fn normalizing_keeps_scheme_host_port_and_path_only() {
        let n = |u: &str| normalize(&Url::parse(u).expect("url"));
        assert_eq!(
            n("https://X.Portal.EU-West-1.App.Aws:443/start/?a=1#f"),
            "https://x.portal.eu-west-1.app.aws/start"
        );
        assert_eq!(n("https://d-1.awsapps.com:8443/start"), "https://d-1.awsapps.com:8443/start");
        assert_eq!(n("https://d-1.awsapps.com/"), "https://d-1.awsapps.com");
    }

    fn http() -> HttpClient {
        HttpClient::new(HttpSettings::default())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_aws_start_url_is_used_as_it_is_without_a_request() {
        let url = "https://d-1234567890.awsapps.com/start";
        let resolved = resolve(&http(), url, "us-east-1").await.expect("resolve");
        assert_eq!(resolved, ResolvedStartUrl { url: url.to_owned(), region: "us-east-1".into() });
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_custom_domain_leads_through_one_redirect_to_the_portal_and_its_region() {
        let portal = "https://SSOINS-1111.portal.eu-west-1.app.aws/start/";
        let server = TestServer::start(vec![Canned::json(302, "").header("Location", portal)]);
        let start = format!("{}/start", server.base_url);
        let resolved = resolve(&http(), &start, "us-east-1").await.expect("resolve");
        assert_eq!(resolved.url, "https://ssoins-1111.portal.eu-west-1.app.aws/start");
        assert_eq!(resolved.region, "eu-west-1");
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "one hop, the portal itself is not asked");
        assert_eq!(requests[0].method, "HEAD");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn head_refused_means_get_and_a_portal_without_a_region_keeps_the_configured_one() {
        let server = TestServer::start(vec![
            Canned::json(405, ""),
            Canned::json(301, "").header("Location", "https://d-1234567890.awsapps.com/start"),
        ]);
        let start = format!("{}/start", server.base_url);
        let resolved = resolve(&http(), &start, "eu-central-1").await.expect("resolve");
        assert_eq!(resolved.url, "https://d-1234567890.awsapps.com/start");
        assert_eq!(resolved.region, "eu-central-1");
        let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
        assert_eq!(methods, ["HEAD", "GET"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn what_does_not_lead_to_an_aws_portal_is_an_error_that_says_where_it_went() {
        let server = TestServer::start(vec![
            Canned::json(200, ""),
            Canned::json(302, "").header("Location", "https://login.example.com/sso"),
            Canned::json(302, "").header("Location", "http://d-1.awsapps.com/start"),
            Canned::json(404, ""),
        ]);
        let start = format!("{}/start", server.base_url);
        for expected in [
            start.clone(),
            "https://login.example.com/sso".into(),
            "http://d-1.awsapps.com/start".into(),
        ] {
            let err = resolve(&http(), &start, "us-east-1").await.expect_err("not AWS");
            assert!(
                matches!(&err, StartUrlError::NotAws { resolved, .. } if *resolved == expected),
                "{err}"
            );
            assert_eq!(err.kind(), ErrorKind::Usage);
        }
        let err = resolve(&http(), &start, "us-east-1").await.expect_err("404");
        assert!(err.to_string().contains("answered HTTP 404"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn without_sso_region_the_portal_must_name_its_region() {
        let server = TestServer::start(vec![
            Canned::json(302, "").header("Location", "https://x.portal.ap-south-1.app.aws/start"),
            Canned::json(302, "").header("Location", "https://d-1234567890.awsapps.com/start"),
        ]);
        let start = format!("{}/start", server.base_url);
        assert!(may_name_the_region(&start));
        assert!(!may_name_the_region("https://d-1234567890.awsapps.com/start"));
        let resolved = resolve(&http(), &start, "").await.expect("named");
        assert_eq!(resolved.region, "ap-south-1");
        let err = resolve(&http(), &start, "").await.expect_err("not named");
        assert!(err.to_string().contains("no sso_region is set"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn only_https_is_resolved_except_on_loopback() {
        for url in ["http://sso.example.com/start", "ftp://sso.example.com/start"] {
            let err = resolve(&http(), url, "us-east-1").await.expect_err("not https");
            assert!(err.to_string().contains("does not use https"), "{err}");
        }
        let err = resolve(&http(), "d-1234567890.awsapps.com/start", "us-east-1").await;
        assert!(matches!(err, Err(StartUrlError::NotHttps { .. })), "{err:?}");
        let err = resolve(&http(), "https://", "us-east-1").await.expect_err("invalid");
        assert!(matches!(err, StartUrlError::Invalid { .. }), "{err}");
    }
}
