//! AWS console sign-in URLs from role credentials, through the federation endpoint of the
//! credentials' partition: `getSigninToken` trades the credentials for a sign-in token, and the
//! `login` URL carries that token to the console.
//!
//! Both URLs are credentials (the first holds the role's secret key, the second signs anyone in),
//! so they are [`Secret`]s and no error or log line ever holds one.

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
}

const CONSOLE_PARTITIONS: &[ConsolePartition] = &[
    ConsolePartition {
        name: "aws",
        federation: "https://signin.aws.amazon.com",
        console: "https://console.aws.amazon.com/",
    },
    ConsolePartition {
        name: "aws-cn",
        federation: "https://signin.amazonaws.cn",
        console: "https://console.amazonaws.cn/",
    },
    ConsolePartition {
        name: "aws-us-gov",
        federation: "https://signin.amazonaws-us-gov.com",
        console: "https://console.amazonaws-us-gov.com/",
    },
];

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
        "The destination {destination:?} is not an http:// or https:// URL; give a console URL \
         such as https://console.aws.amazon.com/s3/."
    )]
    InvalidDestination { destination: String },

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

/// What to sign in with, and where to land.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleRequest<'a> {
    pub credentials: &'a RoleCredentials,
    /// The region the console opens in (`?region=`), when known.
    pub region: Option<&'a str>,
    /// The region whose partition applies when `region` is not known: the SSO session's.
    pub fallback_region: &'a str,
    /// A console URL to land on instead of the start page.
    pub destination: Option<&'a str>,
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

/// Where the console opens: `destination` when given, else the start page of the partition,
/// with `?region=` when the region is known.
pub fn destination(request: &ConsoleRequest<'_>) -> Result<String, ConsoleError> {
    if let Some(destination) = request.destination {
        if !is_web_url(destination) {
            return Err(ConsoleError::InvalidDestination { destination: destination.to_owned() });
        }
        return Ok(destination.to_owned());
    }
    let console = console_partition(request.partition_region())?.console;
    Ok(match request.region {
        Some(region) => format!("{console}?region={}", percent_encode(region)),
        None => console.to_owned(),
    })
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
    request: &ConsoleRequest<'_>,
) -> Result<Secret, ConsoleError> {
    let endpoint = federation_endpoint(env, request.partition_region())?;
    let destination = destination(request)?;
    let token = signin_token(http, &endpoint, request).await?;
    Ok(login_url(&endpoint, &destination, &token))
}

/// One GET, not retried: the user is waiting and can run the command again. Errors name the
/// endpoint only, never the URL, which holds the credentials.
async fn signin_token(
    http: &HttpClient,
    endpoint: &str,
    request: &ConsoleRequest<'_>,
) -> Result<Secret, ConsoleError> {
    let url = signin_token_url(endpoint, request.credentials, request.session_duration);
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
            message: refusal_message(&body, request.credentials),
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

    fn request<'a>(creds: &'a RoleCredentials, region: Option<&'a str>) -> ConsoleRequest<'a> {
        ConsoleRequest {
            credentials: creds,
            region,
            fallback_region: "us-east-1",
            destination: None,
            session_duration: None,
        }
    }

    #[test]
    fn each_partition_has_its_own_sign_in_and_console() {
        let env = Environment::default();
        let creds = credentials();
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
            let req = request(&creds, Some(region));
            assert_eq!(destination(&req).unwrap(), format!("{console}?region={region}"));
        }
    }

    #[test]
    fn without_a_region_the_sso_region_picks_the_partition_and_no_region_is_added() {
        let creds = credentials();
        let mut req = request(&creds, None);
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

    #[test]
    fn a_destination_is_used_as_given_when_it_is_a_url() {
        let creds = credentials();
        let mut req = request(&creds, Some("eu-west-1"));
        req.destination = Some("https://console.aws.amazon.com/s3/home?region=eu-west-1");
        assert_eq!(
            destination(&req).unwrap(),
            "https://console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        req.destination = Some("s3");
        assert!(matches!(destination(&req), Err(ConsoleError::InvalidDestination { .. })));
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
            .block_on(signin_url(&HttpClient::default(), &env, &request(&creds, Some("eu-west-1"))))
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
            .block_on(signin_url(&HttpClient::default(), &env, &request(&creds, None)))
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
            .block_on(signin_url(&HttpClient::default(), &env, &request(&creds, None)))
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
