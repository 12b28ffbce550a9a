//! STS AssumeRole, the one STS call a chained profile needs (docs/aws-contracts.md §10): a form
//! POST of the query protocol, signed with our SigV4 ([`crate::sigv4`]), answered in XML.

use std::sync::Arc;

use jiff::Timestamp;

use crate::http::{self, Api, HttpClient, HttpError, Method, Operation, Request};
use crate::secret::Secret;
use crate::sigv4;
use crate::time::parse_lenient;

pub static STS: Api = Api {
    name: "STS",
    endpoint_variable: crate::env::AWS_ENDPOINT_URL_STS,
    unauthorized_hint: None,
};

const ASSUME_ROLE: Operation = STS.operation("AssumeRole");

/// The API version of the `sts` model, sent in every query-protocol request.
const API_VERSION: &str = "2011-06-15";

/// What AssumeRole is asked for: the request parameters a profile configures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRoleParams {
    pub role_arn: String,
    pub role_session_name: String,
    pub external_id: Option<String>,
    pub duration_seconds: Option<i64>,
}

/// The credentials that sign the call: the source role's.
pub struct SourceKeys<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a Secret,
    pub session_token: &'a Secret,
}

/// AssumeRole's answer: the new credentials and the ARN of the assumed role's session.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumedRole {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: Timestamp,
    /// `AssumedRoleUser/Arn`: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub assumed_role_arn: Option<String>,
    pub assumed_role_id: Option<String>,
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedRole")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .field("assumed_role_arn", &self.assumed_role_arn)
            .finish_non_exhaustive()
    }
}

/// A client of one STS endpoint, signing for one region.
pub struct StsClient {
    base_url: String,
    region: String,
    http: Arc<HttpClient>,
}

impl StsClient {
    /// `base_url` from [`crate::endpoint::endpoint_for`]; `region` is the signing region.
    pub fn new(
        base_url: impl Into<String>,
        region: impl Into<String>,
        http: Arc<HttpClient>,
    ) -> Self {
        Self { base_url: base_url.into(), region: region.into(), http }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// AssumeRole, signed with `keys` at `now`.
    pub async fn assume_role(
        &self,
        keys: &SourceKeys<'_>,
        params: &AssumeRoleParams,
        now: Timestamp,
    ) -> Result<AssumedRole, HttpError> {
        let duration = params.duration_seconds.map(|d| d.to_string());
        let mut pairs = vec![
            ("Action", "AssumeRole"),
            ("Version", API_VERSION),
            ("RoleArn", params.role_arn.as_str()),
            ("RoleSessionName", params.role_session_name.as_str()),
        ];
        if let Some(external_id) = &params.external_id {
            pairs.push(("ExternalId", external_id));
        }
        if let Some(duration) = &duration {
            pairs.push(("DurationSeconds", duration));
        }
        let body = sigv4::form(&pairs);
        let url = format!("{}/", self.base_url.trim_end_matches('/'));
        let (host, path) = host_and_path(&url).ok_or_else(|| HttpError::InvalidResponse {
            operation: ASSUME_ROLE,
            url: url.clone(),
            detail: "the endpoint is not an http:// or https:// URL".to_owned(),
        })?;
        let content_type = "application/x-www-form-urlencoded; charset=utf-8".to_owned();
        let request = sigv4::Request {
            method: "POST",
            host: &host,
            path: &path,
            query: Vec::new(),
            headers: vec![("Content-Type".to_owned(), content_type)],
            body: body.as_bytes(),
        };
        let signing_region = if self.region == "aws-global" { "us-east-1" } else { &self.region };
        let sig_keys = sigv4::Keys {
            access_key_id: keys.access_key_id,
            secret_access_key: keys.secret_access_key.expose(),
            session_token: Some(keys.session_token.expose()),
        };
        let scope = sigv4::Scope { region: signing_region, service: "sts", time: now };
        let headers = sigv4::sign(&request, &sig_keys, scope);
        let call = Request {
            operation: ASSUME_ROLE,
            method: Method::Post,
            url: url.clone(),
            bearer: None,
            json: None,
            form: Some(body.into_bytes()),
            headers,
            retry: true,
        };
        let answer = self.http.send(&call).await?;
        parse_assume_role(&answer).map_err(|detail| HttpError::InvalidResponse {
            operation: ASSUME_ROLE,
            url,
            detail,
        })
    }
}

/// The `Host` header (with a port that is not the scheme's default) and the decoded path of
/// `url`.
fn host_and_path(url: &str) -> Option<(String, String)> {
    let lower = url.to_ascii_lowercase();
    let (rest, default_port) = if lower.starts_with("https://") {
        (&url["https://".len()..], ":443")
    } else if lower.starts_with("http://") {
        (&url["http://".len()..], ":80")
    } else {
        return None;
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let host = authority.strip_suffix(default_port).unwrap_or(authority);
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), percent_decode(path)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `<AssumeRoleResponse><AssumeRoleResult>`. The error never quotes the body: it holds
/// the new secret key and session token.
pub fn parse_assume_role(body: &[u8]) -> Result<AssumedRole, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let result = http::xml_element(text, "AssumeRoleResult")
        .ok_or("the body has no AssumeRoleResult element")?;
    let credentials =
        http::xml_element(result, "Credentials").ok_or("the body has no Credentials element")?;
    let field = |name: &'static str| -> Result<String, String> {
        http::xml_element(credentials, name)
            .map(|v| http::xml_unescape(v.trim()))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("Credentials has no {name}"))
    };
    let expiration = field("Expiration")?;
    let user = http::xml_element(result, "AssumedRoleUser");
    let user_field =
        |name| user.and_then(|u| http::xml_element(u, name)).map(|v| http::xml_unescape(v.trim()));
    Ok(AssumedRole {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Secret::new(field("SessionToken")?),
        expiration: parse_lenient(&expiration).ok_or("Expiration is not a timestamp")?,
        assumed_role_arn: user_field("Arn"),
        assumed_role_id: user_field("AssumedRoleId"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpSettings;
    use crate::http::test_server::{Canned, TestServer};

    const ANSWER: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::222222222222:assumed-role/Spoke/botocore-session-1</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:botocore-session-1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>FwoGZX&amp;Token+/=</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2026-12-07T04:00:00Z</Expiration>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn the_answer_is_read_whatever_the_order_of_its_fields() {
        let assumed = parse_assume_role(ANSWER.as_bytes()).expect("parses");
        assert_eq!(assumed.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(assumed.secret_access_key.expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_eq!(assumed.session_token.expose(), "FwoGZX&Token+/=");
        assert_eq!(assumed.expiration.to_string(), "2026-12-07T04:00:00Z");
        assert_eq!(
            assumed.assumed_role_arn.as_deref(),
            Some("arn:aws:sts::222222222222:assumed-role/Spoke/botocore-session-1")
        );
        let debug = format!("{assumed:?}");
        assert!(!debug.contains("EXAMPLEKEY") && !debug.contains("FwoGZX"), "{debug}");
    }

    #[test]
    fn a_partial_answer_is_an_error_that_quotes_nothing() {
        let without_token = ANSWER.replace("<SessionToken>FwoGZX&amp;Token+/=</SessionToken>", "");
        let error = parse_assume_role(without_token.as_bytes()).expect_err("no token");
        assert_eq!(error, "Credentials has no SessionToken");
        let error = parse_assume_role(b"<html>nope</html>").expect_err("not STS");
        assert_eq!(error, "the body has no AssumeRoleResult element");
        let bad_time = ANSWER.replace("2026-12-07T04:00:00Z", "tomorrow");
        let error = parse_assume_role(bad_time.as_bytes()).expect_err("time");
        assert!(!error.contains("EXAMPLEKEY"), "{error}");
    }

    #[test]
    fn hosts_and_paths_are_what_the_signature_covers() {
        assert_eq!(
            host_and_path("https://sts.eu-west-1.amazonaws.com/"),
            Some(("sts.eu-west-1.amazonaws.com".to_owned(), "/".to_owned()))
        );
        assert_eq!(
            host_and_path("http://127.0.0.1:4566/sts/"),
            Some(("127.0.0.1:4566".to_owned(), "/sts/".to_owned()))
        );
        assert_eq!(
            host_and_path("https://Example.com:443/a%20b/"),
            Some(("example.com".to_owned(), "/a b/".to_owned()))
        );
        assert_eq!(host_and_path("ftp://x/"), None);
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    fn params() -> AssumeRoleParams {
        AssumeRoleParams {
            role_arn: "arn:aws:iam::222222222222:role/Spoke".to_owned(),
            role_session_name: "botocore-session-1".to_owned(),
            external_id: Some("ext 1".to_owned()),
            duration_seconds: Some(900),
        }
    }

    fn keys_call(server: &TestServer) -> Result<AssumedRole, HttpError> {
        let client = StsClient::new(
            &server.base_url,
            "eu-west-1",
            Arc::new(HttpClient::new(HttpSettings::default())),
        );
        let secret = Secret::new("SOURCE-SECRET-KEY");
        let token = Secret::new("SOURCE-SESSION-TOKEN");
        let keys = SourceKeys {
            access_key_id: "ASIASOURCE",
            secret_access_key: &secret,
            session_token: &token,
        };
        let now = Timestamp::from_second(1_796_000_000).expect("time");
        run(client.assume_role(&keys, &params(), now))
    }

    #[test]
    fn the_call_is_a_signed_form_post() {
        let server = TestServer::start(vec![Canned::json(200, ANSWER)]);
        let assumed = keys_call(&server).expect("assumed");
        assert_eq!(assumed.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        let requests = server.requests();
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/");
        assert_eq!(
            request.body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FSpoke&RoleSessionName=botocore-session-1&ExternalId=ext%201&DurationSeconds=900"
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded; charset=utf-8")
        );
        assert_eq!(request.header("x-amz-security-token"), Some("SOURCE-SESSION-TOKEN"));
        let authorization = request.header("authorization").expect("signed");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=ASIASOURCE/20261130/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
            ),
            "{authorization}"
        );
        assert!(!authorization.contains("SOURCE-SECRET-KEY"));
    }

    #[test]
    fn an_xml_error_is_its_code_and_message_and_never_the_token() {
        let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::111111111111:assumed-role/Hub/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Spoke (token SOURCE-SESSION-TOKEN)</Message></Error><RequestId>r</RequestId></ErrorResponse>";
        let server = TestServer::start(vec![Canned::json(403, body)]);
        let error = keys_call(&server).expect_err("denied");
        assert_eq!(error.code(), Some("AccessDenied"));
        let text = error.to_string();
        assert!(text.starts_with("STS AssumeRole failed with AccessDenied (HTTP 403): User: arn:aws:sts::111111111111:assumed-role/Hub/x is not authorized"), "{text}");
        assert!(!text.contains("SOURCE-SESSION-TOKEN"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
