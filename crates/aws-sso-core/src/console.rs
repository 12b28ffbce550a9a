//! AWS console sign-in URLs from role credentials, through the federation endpoint of the
//! credentials' partition: `getSigninToken` trades the credentials for a sign-in token, and the
//! `login` URL carries that token to the console.
//!
//! Both URLs are credentials (the first holds the role's secret key, the second signs anyone in),
//! so they are [`Secret`]s and no error or log line ever holds one.
//!
//! Where the console lands is a [`Destination`]: a console URL, or a service name from
//! [`CONSOLE_SERVICES`] (or any other service slug) that becomes that service's home page. A
//! region known to the command reaches the destination as the console's own `?region=` does.
//!
//! [`portal_link`] is the other way in: the access portal's shortcut link for an account and
//! role, which the browser follows with its own portal sign-in. It holds no credential and needs
//! no request from here.

use jiff::SignedDuration;
use serde::Deserialize;

use crate::cache::role_credentials::RoleCredentials;
use crate::endpoint;
use crate::env::{self, Environment};
use crate::http::{
    BodyError, HttpClient, HttpError, MAX_BODY_BYTES, percent_encode, read_body, truncate_chars,
};
use crate::secret::Secret;

/// The `Issuer` of the login URL: the console names it on its sign-out page.
pub const ISSUER: &str = "aws-sso";

/// Longest error message of the federation endpoint we repeat.
const MAX_MESSAGE_CHARS: usize = 200;

/// The console's sign-in and start page in one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ConsolePartition {
    name: &'static str,
    federation: &'static str,
    console: &'static str,
    /// The host of the console's regional endpoints, `<region>.<host>`, where they are
    /// documented (the AWS Management Console endpoints page lists them for `aws` only).
    regional_host: Option<&'static str>,
}

const CONSOLE_PARTITIONS: &[ConsolePartition] = &[
    ConsolePartition {
        name: "aws",
        federation: "https://signin.aws.amazon.com",
        console: "https://console.aws.amazon.com/",
        regional_host: Some("console.aws.amazon.com"),
    },
    ConsolePartition {
        name: "aws-cn",
        federation: "https://signin.amazonaws.cn",
        console: "https://console.amazonaws.cn/",
        regional_host: None,
    },
    ConsolePartition {
        name: "aws-us-gov",
        federation: "https://signin.amazonaws-us-gov.com",
        console: "https://console.amazonaws-us-gov.com/",
        regional_host: None,
    },
];

impl ConsolePartition {
    /// The console's root in `region`: its regional endpoint where there is one.
    fn console_in(&self, region: &str) -> String {
        match self.regional_host {
            Some(host) if is_region_like(region) => format!("https://{region}.{host}/"),
            _ => self.console.to_owned(),
        }
    }
}

/// A service `--destination` knows by name, and the path of its console home page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleService {
    pub name: &'static str,
    pub path: &'static str,
}

const fn service(name: &'static str, path: &'static str) -> ConsoleService {
    ConsoleService { name, path }
}

/// The services a `--destination` name is checked against, sorted by name. Kept short: the
/// common ones, the ones whose console path is not `<name>/home`, and the short names that are
/// one letter from another service (so `ecs` is not taken for a typo of `ec2`). Any other slug
/// that is not close to one of these opens `<slug>/home`, which is where most services live.
pub const CONSOLE_SERVICES: &[ConsoleService] = &[
    service("acm", "acm/home"),
    service("apigateway", "apigateway/home"),
    service("athena", "athena/home"),
    service("billing", "billing/home"),
    service("cloudformation", "cloudformation/home"),
    service("cloudfront", "cloudfront/home"),
    service("cloudtrail", "cloudtrail/home"),
    service("cloudwatch", "cloudwatch/home"),
    service("dynamodb", "dynamodbv2/home"),
    service("ec2", "ec2/home"),
    service("ecr", "ecr/home"),
    service("ecs", "ecs/home"),
    service("efs", "efs/home"),
    service("eks", "eks/home"),
    service("emr", "emr/home"),
    service("eventbridge", "events/home"),
    service("iam", "iam/home"),
    service("kms", "kms/home"),
    service("lambda", "lambda/home"),
    service("ram", "ram/home"),
    service("rds", "rds/home"),
    service("route53", "route53/home"),
    service("s3", "s3/home"),
    service("secretsmanager", "secretsmanager/home"),
    service("ses", "ses/home"),
    service("sns", "sns/home"),
    service("sqs", "sqs/home"),
    service("ssm", "systems-manager/home"),
    service("stepfunctions", "states/home"),
    service("vpc", "vpc/home"),
];

/// How many close names an unknown one is answered with.
const MAX_SUGGESTIONS: usize = 4;

/// The longest service slug taken; the longest console path segment is far shorter.
const MAX_SLUG: usize = 40;

/// Where the console lands: `--destination` as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// An `http://` or `https://` URL, opened as given (with the region added when it has none).
    Url(String),
    /// A service's console home page, by its path under the console's root.
    Service { name: String, path: String },
}

impl std::str::FromStr for Destination {
    type Err = ConsoleError;

    /// A URL, a service of [`CONSOLE_SERVICES`] (in any case), or another service slug that is
    /// not one or two letters away from one of them (a typo is refused with the close names).
    fn from_str(text: &str) -> Result<Self, ConsoleError> {
        let text = text.trim();
        if is_web_url(text) {
            if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(ConsoleError::InvalidDestination { destination: text.to_owned() });
            }
            return Ok(Destination::Url(text.to_owned()));
        }
        let name = text.to_ascii_lowercase();
        if let Some(known) = CONSOLE_SERVICES.iter().find(|s| s.name == name) {
            return Ok(Destination::Service {
                name: known.name.to_owned(),
                path: known.path.to_owned(),
            });
        }
        let suggestions = close_services(&name);
        if is_slug(&name) && suggestions.is_empty() {
            return Ok(Destination::Service { path: format!("{name}/home"), name });
        }
        Err(ConsoleError::UnknownService { name: text.to_owned(), suggestions })
    }
}

/// Known services close to `name`, closest first, at most [`MAX_SUGGESTIONS`]: the ones that
/// start with it, then those one edit away for names of up to three letters (where two edits
/// reach almost any other three-letter name), two for longer ones.
fn close_services(name: &str) -> Vec<&'static str> {
    let limit = if name.chars().count() <= 3 { 1 } else { 2 };
    let mut close: Vec<(usize, &'static str)> = CONSOLE_SERVICES
        .iter()
        .filter_map(|s| {
            if name.len() >= 3 && s.name.starts_with(name) {
                return Some((0, s.name));
            }
            let distance = strsim::osa_distance(name, s.name);
            (distance <= limit).then_some((distance, s.name))
        })
        .collect();
    close.sort();
    close.into_iter().take(MAX_SUGGESTIONS).map(|(_, name)| name).collect()
}

/// A console path segment: lowercase letters, digits and dashes, starting with a letter.
fn is_slug(name: &str) -> bool {
    name.len() <= MAX_SLUG
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `eu-west-1`, `us-gov-west-1`: words of lowercase letters, then a number; nothing else goes
/// into a host name or is taken for a region of a destination's own.
fn is_region_like(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// How the unknown-service error lists names.
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn unknown_service_message(name: &str, suggestions: &[&str]) -> String {
    let shown: String = name.chars().filter(|c| !c.is_control()).collect();
    let lower = shown.to_ascii_lowercase();
    let mut text = "no console service of this name is known, and it is not an http:// or \
                    https:// URL."
        .to_owned();
    if !suggestions.is_empty() {
        text.push_str(&format!(" Did you mean {}?", or_list(suggestions)));
    } else if shown.contains('.') && !shown.contains(char::is_whitespace) {
        text.push_str(&format!(" Did you mean https://{shown}?"));
    }
    let known: Vec<&str> = CONSOLE_SERVICES.iter().map(|s| s.name).collect();
    text.push_str(&format!("\n  known services: {}", known.join(", ")));
    let example = if is_slug(&lower) { lower } else { "s3".to_owned() };
    text.push_str(&format!(
        "\n  any other console page: give its full https:// URL, such as \
         https://console.aws.amazon.com/{example}/home"
    ));
    text
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(
        "No console sign-in is known for the {partition} partition (region {region}). Set {} to \
         its federation endpoint and give the console URL with --destination.",
        env::AWS_SSO_FEDERATION_ENDPOINT
    )]
    UnsupportedPartition { partition: &'static str, region: String },

    #[error(
        "The federation endpoint {url:?} from {} is not an http:// or https:// URL: fix or unset it.",
        env::AWS_SSO_FEDERATION_ENDPOINT
    )]
    InvalidEndpoint { url: String },

    #[error(
        "The destination {destination:?} is not a URL a browser can open (it holds a space or a \
         control character); give a console URL such as https://console.aws.amazon.com/s3/home, \
         or a service name such as s3."
    )]
    InvalidDestination { destination: String },

    #[error("{}", unknown_service_message(name, suggestions))]
    UnknownService { name: String, suggestions: Vec<&'static str> },

    #[error(
        "The start URL {start_url:?} of {session} is not an https:// URL, so it has no portal \
         link; fix sso_start_url in the AWS config."
    )]
    InvalidStartUrl { start_url: String, session: String },

    #[error(
        "Could not reach the console federation endpoint {endpoint}: {detail}. Check the network, \
         a proxy (HTTPS_PROXY/NO_PROXY) or {}.",
        env::AWS_SSO_FEDERATION_ENDPOINT
    )]
    Unreachable { endpoint: String, detail: String },

    #[error(
        "The console federation endpoint {endpoint} refused the role credentials (HTTP {status}){}. \
         The credentials may have expired or been revoked: run `aws-sso-env console` again, or \
         `aws-sso-login` when the session has ended.",
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    Refused { endpoint: String, status: u16, message: Option<String> },

    #[error(
        "The console federation endpoint {endpoint} answered getSigninToken without a sign-in \
         token: {detail}. Check {}.",
        env::AWS_SSO_FEDERATION_ENDPOINT
    )]
    InvalidResponse { endpoint: String, detail: String },

    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Where to land, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleRequest<'a> {
    /// The region the console opens in (`?region=`), when known.
    pub region: Option<&'a str>,
    /// The region whose partition applies when `region` is not known: the SSO session's.
    pub fallback_region: &'a str,
    /// A console page to land on instead of the start page.
    pub destination: Option<&'a Destination>,
    /// How long the console session lasts (`SessionDuration`, 15 min to 12 h). The federation
    /// endpoint refuses it for credentials of a role, which is what the portal gives, so it is
    /// only sent when asked for.
    pub session_duration: Option<SignedDuration>,
}

impl ConsoleRequest<'_> {
    fn partition_region(&self) -> &str {
        self.region.unwrap_or(self.fallback_region)
    }
}

fn console_partition(region: &str) -> Result<&'static ConsolePartition, ConsoleError> {
    let name = endpoint::partition_name(region);
    CONSOLE_PARTITIONS.iter().find(|p| p.name == name).ok_or_else(|| {
        ConsoleError::UnsupportedPartition { partition: name, region: region.to_owned() }
    })
}

fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// The federation endpoint for `region`'s partition, or `AWS_SSO_FEDERATION_ENDPOINT`; without
/// a trailing `/`.
pub fn federation_endpoint(env: &Environment, region: &str) -> Result<String, ConsoleError> {
    if let Some(url) = env.non_empty(env::AWS_SSO_FEDERATION_ENDPOINT) {
        if !is_web_url(url) {
            return Err(ConsoleError::InvalidEndpoint { url: url.to_owned() });
        }
        return Ok(url.trim_end_matches('/').to_owned());
    }
    Ok(console_partition(region)?.federation.to_owned())
}

/// Where the console opens: the destination's URL, else the start page of the partition. A
/// known region reaches it as `?region=`, unless a URL says a region of its own.
pub fn destination(request: &ConsoleRequest<'_>) -> Result<String, ConsoleError> {
    let region_query = |region: &str| format!("?region={}", percent_encode(region));
    match request.destination {
        Some(Destination::Url(url)) => Ok(match request.region {
            Some(region) => with_region(url, region),
            None => url.clone(),
        }),
        Some(Destination::Service { path, .. }) => {
            let partition = console_partition(request.partition_region())?;
            Ok(match request.region {
                Some(region) => {
                    format!("{}{path}{}", partition.console_in(region), region_query(region))
                }
                None => format!("{}{path}", partition.console),
            })
        }
        None => {
            let console = console_partition(request.partition_region())?.console;
            Ok(match request.region {
                Some(region) => format!("{console}{}", region_query(region)),
                None => console.to_owned(),
            })
        }
    }
}

/// `url` with `region=` added to its query (before any `#fragment`, where the console keeps
/// its own routes), unless it already names a region: a `region` parameter, or a regional
/// console host such as `eu-west-1.console.aws.amazon.com`. Its own region wins: it is the page
/// the user copied.
fn with_region(url: &str, region: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (before_fragment, None),
    };
    let host = base.split_once("://").map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
    let regional_host = host.split('.').next().is_some_and(is_region_like);
    let has_region_param =
        query.is_some_and(|q| q.split('&').any(|pair| pair.split('=').next() == Some("region")));
    if regional_host || has_region_param {
        return url.to_owned();
    }
    let region = format!("region={}", percent_encode(region));
    let query = match query {
        Some(query) if !query.is_empty() => format!("{query}&{region}"),
        _ => region,
    };
    let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
    format!("{base}?{query}{fragment}")
}

/// The access portal's shortcut link to the console as `role_name` in `account_id`:
/// `<start URL>/#/console?account_id=…&role_name=…&destination=…`. The browser's portal
/// session signs in, and the multi-session console keeps the other sessions it has. The link
/// holds no credential: it only says where to go.
pub fn portal_link(
    start_url: &str,
    session: &str,
    account_id: &str,
    role_name: &str,
    destination: Option<&str>,
) -> Result<String, ConsoleError> {
    let base = start_url.split('#').next().unwrap_or_default().trim_end_matches('/');
    if !base.starts_with("https://") || base.chars().any(|c| c.is_control() || c == ' ') {
        return Err(ConsoleError::InvalidStartUrl {
            start_url: start_url.to_owned(),
            session: session.to_owned(),
        });
    }
    let destination =
        destination.map(|d| format!("&destination={}", percent_encode(d))).unwrap_or_default();
    Ok(format!(
        "{base}/#/console?account_id={}&role_name={}{destination}",
        percent_encode(account_id),
        percent_encode(role_name)
    ))
}

/// The `getSigninToken` URL. It holds the role's secret key and session token.
pub fn signin_token_url(
    endpoint: &str,
    credentials: &RoleCredentials,
    session_duration: Option<SignedDuration>,
) -> Secret {
    let session = serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key.expose(),
        "sessionToken": credentials.session_token.expose(),
    })
    .to_string();
    let duration =
        session_duration.map(|d| format!("&SessionDuration={}", d.as_secs())).unwrap_or_default();
    Secret::new(format!(
        "{endpoint}/federation?Action=getSigninToken{duration}&Session={}",
        percent_encode(&session)
    ))
}

/// The URL that signs the browser in and lands on `destination`.
pub fn login_url(endpoint: &str, destination: &str, signin_token: &Secret) -> Secret {
    Secret::new(format!(
        "{endpoint}/federation?Action=login&Issuer={ISSUER}&Destination={}&SigninToken={}",
        percent_encode(destination),
        percent_encode(signin_token.expose())
    ))
}

#[derive(Deserialize)]
struct SigninTokenAnswer {
    #[serde(rename = "SigninToken")]
    signin_token: Secret,
}

/// Trades the credentials for a sign-in token and gives the console sign-in URL.
pub async fn signin_url(
    http: &HttpClient,
    env: &Environment,
    credentials: &RoleCredentials,
    request: &ConsoleRequest<'_>,
) -> Result<Secret, ConsoleError> {
    let endpoint = federation_endpoint(env, request.partition_region())?;
    let destination = destination(request)?;
    let token = signin_token(http, &endpoint, credentials, request.session_duration).await?;
    Ok(login_url(&endpoint, &destination, &token))
}

/// One GET, not retried: the user is waiting and can run the command again. Errors name the
/// endpoint only, never the URL, which holds the credentials.
async fn signin_token(
    http: &HttpClient,
    endpoint: &str,
    credentials: &RoleCredentials,
    session_duration: Option<SignedDuration>,
) -> Result<Secret, ConsoleError> {
    let url = signin_token_url(endpoint, credentials, session_duration);
    let unreachable = |e: reqwest::Error| {
        let detail = if e.is_timeout() {
            format!("no answer in time (allow more with {}, in seconds)", env::AWS_SSO_HTTP_TIMEOUT)
        } else {
            innermost(&e.without_url())
        };
        ConsoleError::Unreachable { endpoint: endpoint.to_owned(), detail }
    };
    let response = http.client()?.get(url.expose()).send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    tracing::debug!(status, "getSigninToken answered");
    let body = match read_body(response, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(BodyError::Transport(e)) => return Err(unreachable(e)),
        Err(BodyError::TooLarge) => {
            return Err(ConsoleError::InvalidResponse {
                endpoint: endpoint.to_owned(),
                detail: format!("the answer is larger than {} MiB", MAX_BODY_BYTES >> 20),
            });
        }
    };
    if !(200..300).contains(&status) {
        return Err(ConsoleError::Refused {
            endpoint: endpoint.to_owned(),
            status,
            message: refusal_message(&body, credentials),
        });
    }
    let answer: SigninTokenAnswer =
        serde_json::from_slice(&body).map_err(|e| ConsoleError::InvalidResponse {
            endpoint: endpoint.to_owned(),
            detail: crate::http::describe_json_error(&e),
        })?;
    if answer.signin_token.expose().is_empty() {
        return Err(ConsoleError::InvalidResponse {
            endpoint: endpoint.to_owned(),
            detail: "the SigninToken is empty".to_owned(),
        });
    }
    Ok(answer.signin_token)
}

/// What the endpoint said, when it is short text that repeats none of the credentials.
fn refusal_message(body: &[u8], credentials: &RoleCredentials) -> Option<String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => ["message", "Message"]
            .iter()
            .find_map(|k| json.get(*k).and_then(serde_json::Value::as_str))?
            .to_owned(),
        Err(_) => String::from_utf8(body.to_vec()).ok()?,
    };
    let clean: String = text.trim().chars().filter(|c| !c.is_control()).collect();
    let secrets = [
        credentials.access_key_id.as_str(),
        credentials.secret_access_key.expose(),
        credentials.session_token.expose(),
    ];
    let leaks = secrets.iter().any(|s| !s.is_empty() && clean.contains(s));
    // HTML error pages say nothing useful on one line.
    if clean.is_empty() || leaks || clean.starts_with('<') {
        return None;
    }
    Some(truncate_chars(&clean, MAX_MESSAGE_CHARS))
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_server::{Canned, TestServer};
    use jiff::Timestamp;

    fn credentials() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAEXAMPLE".to_owned(),
            secret_access_key: Secret::new("SECRET/KEY+1"),
            session_token: Secret::new("TOKEN=="),
            expiration: Timestamp::UNIX_EPOCH,
            account_id: "111122223333".to_owned(),
        }
    }

    fn request(region: Option<&str>) -> ConsoleRequest<'_> {
        ConsoleRequest {
            region,
            fallback_region: "us-east-1",
            destination: None,
            session_duration: None,
        }
    }

    #[test]
    fn each_partition_has_its_own_sign_in_and_console() {
        let env = Environment::default();
        let cases = [
            ("eu-west-1", "https://signin.aws.amazon.com", "https://console.aws.amazon.com/"),
            ("cn-north-1", "https://signin.amazonaws.cn", "https://console.amazonaws.cn/"),
            (
                "us-gov-west-1",
                "https://signin.amazonaws-us-gov.com",
                "https://console.amazonaws-us-gov.com/",
            ),
        ];
        for (region, signin, console) in cases {
            assert_eq!(federation_endpoint(&env, region).unwrap(), signin, "{region}");
            let req = request(Some(region));
            assert_eq!(destination(&req).unwrap(), format!("{console}?region={region}"));
        }
    }

    #[test]
    fn without_a_region_the_sso_region_picks_the_partition_and_no_region_is_added() {
        let mut req = request(None);
        req.fallback_region = "us-gov-east-1";
        assert_eq!(destination(&req).unwrap(), "https://console.amazonaws-us-gov.com/");
    }

    #[test]
    fn partitions_without_a_known_console_are_refused_with_the_way_out() {
        let err = federation_endpoint(&Environment::default(), "us-iso-east-1").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("aws-iso partition"), "{text}");
        assert!(text.contains("AWS_SSO_FEDERATION_ENDPOINT"), "{text}");
    }

    #[test]
    fn the_override_wins_and_must_be_a_url() {
        let env =
            Environment::from_pairs([(env::AWS_SSO_FEDERATION_ENDPOINT, "http://127.0.0.1:9/")]);
        assert_eq!(federation_endpoint(&env, "cn-north-1").unwrap(), "http://127.0.0.1:9");
        let bad = Environment::from_pairs([(env::AWS_SSO_FEDERATION_ENDPOINT, "signin.example")]);
        assert!(matches!(
            federation_endpoint(&bad, "us-east-1"),
            Err(ConsoleError::InvalidEndpoint { .. })
        ));
    }

    fn landing(destination: &str, region: Option<&str>) -> Result<String, ConsoleError> {
        let destination: Destination = destination.parse()?;
        let mut req = request(region);
        req.destination = Some(&destination);
        super::destination(&req)
    }

    #[test]
    fn a_destination_url_gets_the_region_unless_it_names_its_own() {
        let cases = [
            (
                "https://console.aws.amazon.com/ec2/home",
                "https://console.aws.amazon.com/ec2/home?region=ap-southeast-2",
            ),
            (
                "https://console.aws.amazon.com/ec2/home?tab=x",
                "https://console.aws.amazon.com/ec2/home?tab=x&region=ap-southeast-2",
            ),
            (
                "https://console.aws.amazon.com/iam/home#/roles?x=1",
                "https://console.aws.amazon.com/iam/home?region=ap-southeast-2#/roles?x=1",
            ),
            (
                "https://console.aws.amazon.com/s3/home?region=eu-west-1",
                "https://console.aws.amazon.com/s3/home?region=eu-west-1",
            ),
            (
                "https://console.aws.amazon.com/s3/home?a=1&region=eu-west-1#b",
                "https://console.aws.amazon.com/s3/home?a=1&region=eu-west-1#b",
            ),
            (
                "https://eu-west-1.console.aws.amazon.com/ec2/home",
                "https://eu-west-1.console.aws.amazon.com/ec2/home",
            ),
            // `regionx` is another parameter: the region is still added.
            (
                "https://console.aws.amazon.com/?regionx=1",
                "https://console.aws.amazon.com/?regionx=1&region=ap-southeast-2",
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(landing(given, Some("ap-southeast-2")).unwrap(), expected, "{given}");
        }
        let url = "https://console.aws.amazon.com/s3/home";
        assert_eq!(landing(url, None).unwrap(), url);
    }

    #[test]
    fn a_service_name_opens_its_home_in_the_region_and_partition() {
        let cases = [
            (
                "s3",
                Some("ap-southeast-2"),
                "https://ap-southeast-2.console.aws.amazon.com/s3/home?region=ap-southeast-2",
            ),
            (
                "EC2",
                Some("eu-west-1"),
                "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1",
            ),
            (
                "dynamodb",
                Some("us-east-1"),
                "https://us-east-1.console.aws.amazon.com/dynamodbv2/home?region=us-east-1",
            ),
            (
                "lambda",
                Some("cn-north-1"),
                "https://console.amazonaws.cn/lambda/home?region=cn-north-1",
            ),
            (
                "iam",
                Some("us-gov-west-1"),
                "https://console.amazonaws-us-gov.com/iam/home?region=us-gov-west-1",
            ),
            ("cloudformation", None, "https://console.aws.amazon.com/cloudformation/home"),
            // Not listed, and not close to a listed name: its `/home`.
            (
                "sagemaker",
                Some("eu-west-1"),
                "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1",
            ),
        ];
        for (name, region, expected) in cases {
            assert_eq!(landing(name, region).unwrap(), expected, "{name}");
        }
        assert!(matches!(
            landing("s3", Some("us-iso-east-1")),
            Err(ConsoleError::UnsupportedPartition { .. })
        ));
    }

    #[test]
    fn typos_and_other_text_are_refused_with_close_names_and_the_url_way_out() {
        let suggested = |text: &str| match text.parse::<Destination>() {
            Err(ConsoleError::UnknownService { suggestions, .. }) => suggestions,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(suggested("lamda"), ["lambda"]);
        assert_eq!(suggested("ec3"), ["ec2", "ecr", "ecs"]);
        assert_eq!(suggested("lambdas"), ["lambda"]);
        assert_eq!(
            suggested("cloud"),
            ["cloudformation", "cloudfront", "cloudtrail", "cloudwatch"]
        );
        assert_eq!(suggested("s3 bucket"), Vec::<&str>::new());
        assert_eq!(suggested("console.aws.amazon.com/s3"), Vec::<&str>::new());
        let text = "lamda".parse::<Destination>().unwrap_err().to_string();
        assert!(text.contains("Did you mean lambda?"), "{text}");
        assert!(text.contains("https://console.aws.amazon.com/lamda/home"), "{text}");
        let text = "console.aws.amazon.com/s3".parse::<Destination>().unwrap_err().to_string();
        assert!(text.contains("Did you mean https://console.aws.amazon.com/s3?"), "{text}");
        assert!(matches!(
            "https://console.aws.amazon.com/ s3".parse::<Destination>(),
            Err(ConsoleError::InvalidDestination { .. })
        ));
        assert_eq!(
            "  https://x.example/p ".parse::<Destination>().unwrap(),
            Destination::Url("https://x.example/p".to_owned())
        );
    }

    #[test]
    fn the_known_services_are_sorted_unique_slugs() {
        for pair in CONSOLE_SERVICES.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        for service in CONSOLE_SERVICES {
            assert!(is_slug(service.name), "{}", service.name);
        }
    }

    #[test]
    fn the_portal_link_encodes_account_role_and_destination() {
        let link = portal_link(
            "https://d-1234567890.awsapps.com/start/#/",
            "corp",
            "111122223333",
            "Admin+Ops",
            Some("https://console.aws.amazon.com/s3/home?region=eu-west-1"),
        )
        .unwrap();
        assert_eq!(
            link,
            "https://d-1234567890.awsapps.com/start/#/console?account_id=111122223333\
             &role_name=Admin%2BOps&destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2Fhome\
             %3Fregion%3Deu-west-1"
        );
        let bare = portal_link("https://d-1.awsapps.com/start", "corp", "1", "R", None).unwrap();
        assert_eq!(bare, "https://d-1.awsapps.com/start/#/console?account_id=1&role_name=R");
        assert!(matches!(
            portal_link("d-1.awsapps.com/start", "corp", "1", "R", None),
            Err(ConsoleError::InvalidStartUrl { .. })
        ));
    }

    #[test]
    fn the_signin_token_request_carries_the_credentials_as_encoded_json() {
        let url = signin_token_url("https://signin.aws.amazon.com", &credentials(), None);
        assert_eq!(
            url.expose(),
            "https://signin.aws.amazon.com/federation?Action=getSigninToken&Session=\
             %7B%22sessionId%22%3A%22ASIAEXAMPLE%22%2C%22sessionKey%22%3A%22SECRET%2FKEY%2B1%22%2C\
             %22sessionToken%22%3A%22TOKEN%3D%3D%22%7D"
        );
        let with_duration = signin_token_url(
            "https://signin.aws.amazon.com",
            &credentials(),
            Some(SignedDuration::from_hours(2)),
        );
        assert!(with_duration.expose().contains("&SessionDuration=7200&Session="));
    }

    #[test]
    fn the_login_url_encodes_destination_and_token() {
        let url = login_url(
            "https://signin.aws.amazon.com",
            "https://console.aws.amazon.com/?region=eu-west-1",
            &Secret::new("tok/en+"),
        );
        assert_eq!(
            url.expose(),
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=aws-sso&Destination=\
             https%3A%2F%2Fconsole.aws.amazon.com%2F%3Fregion%3Deu-west-1&SigninToken=tok%2Fen%2B"
        );
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn signs_in_through_the_endpoint() {
        let server = TestServer::start(vec![Canned::json(200, r#"{"SigninToken":"SIGNIN"}"#)]);
        let env =
            Environment::from_pairs([(env::AWS_SSO_FEDERATION_ENDPOINT, server.base_url.as_str())]);
        let creds = credentials();
        let url = runtime()
            .block_on(signin_url(&HttpClient::default(), &env, &creds, &request(Some("eu-west-1"))))
            .unwrap();
        assert_eq!(
            url.expose(),
            format!(
                "{}/federation?Action=login&Issuer=aws-sso&Destination=\
                 https%3A%2F%2Fconsole.aws.amazon.com%2F%3Fregion%3Deu-west-1&SigninToken=SIGNIN",
                server.base_url
            )
        );
        let sent = server.requests();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].target.starts_with("/federation?Action=getSigninToken&Session="));
    }

    #[test]
    fn a_refusal_names_the_endpoint_and_never_the_credentials() {
        let server = TestServer::start(vec![Canned::json(
            400,
            r#"{"message":"the credentials are not valid"}"#,
        )]);
        let env =
            Environment::from_pairs([(env::AWS_SSO_FEDERATION_ENDPOINT, server.base_url.as_str())]);
        let creds = credentials();
        let err = runtime()
            .block_on(signin_url(&HttpClient::default(), &env, &creds, &request(None)))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("HTTP 400"), "{text}");
        assert!(text.contains("the credentials are not valid"), "{text}");
        for secret in ["ASIAEXAMPLE", "SECRET", "TOKEN", "Session="] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn an_unreachable_endpoint_is_named_without_the_url() {
        let env =
            Environment::from_pairs([(env::AWS_SSO_FEDERATION_ENDPOINT, "http://127.0.0.1:1")]);
        let creds = credentials();
        let err = runtime()
            .block_on(signin_url(&HttpClient::default(), &env, &creds, &request(None)))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("Could not reach the console federation endpoint http://127.0.0.1:1"),
            "{text}"
        );
        assert!(!text.contains("SECRET") && !text.contains("getSigninToken"), "{text}");
    }

    #[test]
    fn messages_that_repeat_a_credential_are_dropped() {
        let creds = credentials();
        assert_eq!(refusal_message(br#"{"message":"bad TOKEN=="}"#, &creds), None);
        assert_eq!(refusal_message(b"<html>oops</html>", &creds), None);
        assert_eq!(refusal_message(b"Expired", &creds).as_deref(), Some("Expired"));
    }
}
