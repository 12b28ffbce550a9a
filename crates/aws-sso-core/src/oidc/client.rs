//! The three OIDC calls, with exactly the JSON members the AWS CLI sends (docs/aws-contracts.md
//! §1.4–1.6): RegisterClient, StartDeviceAuthorization and the three CreateToken grants.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::env;
use crate::http::{self, Api, HttpClient, HttpError, Method, Operation, Request};
use crate::secret::Secret;

/// The SSO OIDC service, as the HTTP layer names it. Its 401s (an invalid client or grant) mean
/// different things per call: the login flows decide.
pub static OIDC: Api = Api {
    name: "SSO OIDC",
    endpoint_variable: env::AWS_ENDPOINT_URL_SSO_OIDC,
    unauthorized_hint: None,
};

const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
const GRANT_REFRESH_TOKEN: &str = "refresh_token";

/// The scope the AWS CLI asks for when none is configured (browser flow).
const DEFAULT_SCOPE: &str = "sso:account:access";

/// The redirect URI registered for the browser flow: no port, as the AWS CLI registers it.
const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

/// A client of one SSO OIDC endpoint.
#[derive(Clone, Debug)]
pub struct OidcClient {
    base_url: String,
    http: Arc<HttpClient>,
}

/// What RegisterClient asks for; `clientType` is always `public`, and members left `None` are
/// not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterClientRequest {
    pub client_name: String,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub issuer_url: Option<String>,
    pub scopes: Option<Vec<String>>,
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Secret,
    pub client_id_issued_at: Option<Timestamp>,
    pub client_secret_expires_at: Timestamp,
}

/// The answer to StartDeviceAuthorization.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the device code expires; 0 when the service did not say.
    #[serde(default)]
    pub expires_in: u64,
    /// Seconds between two CreateToken polls.
    #[serde(default)]
    pub interval: Option<u64>,
}

/// A token from CreateToken.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenGrant {
    pub access_token: Secret,
    /// Seconds the access token lasts.
    pub expires_in: u64,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub token_type: Option<String>,
}

/// RegisterClient for the browser flow, as the AWS CLI sends it: both grants, the loopback
/// redirect URI without a port, the start URL as issuer, and `sso:account:access` when no
/// scope is configured.
pub fn pkce_registration_request(
    client_name: &str,
    issuer_url: &str,
    scopes: &[String],
) -> RegisterClientRequest {
    let scopes = if scopes.is_empty() { vec![DEFAULT_SCOPE.to_owned()] } else { scopes.to_vec() };
    RegisterClientRequest {
        client_name: client_name.to_owned(),
        grant_types: Some(vec![
            GRANT_AUTHORIZATION_CODE.to_owned(),
            GRANT_REFRESH_TOKEN.to_owned(),
        ]),
        redirect_uris: Some(vec![REGISTERED_REDIRECT_URI.to_owned()]),
        issuer_url: Some(issuer_url.to_owned()),
        scopes: Some(scopes),
    }
}

/// RegisterClient for the device flow, as the AWS CLI sends it: the scopes only when some are
/// configured.
pub fn device_registration_request(
    client_name: &str,
    scopes: Option<&[String]>,
) -> RegisterClientRequest {
    RegisterClientRequest {
        client_name: client_name.to_owned(),
        grant_types: None,
        redirect_uris: None,
        issuer_url: None,
        scopes: scopes.filter(|s| !s.is_empty()).map(<[String]>::to_vec),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegisterClientBody<'a> {
    client_name: &'a str,
    client_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_types: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uris: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<&'a [String]>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterClientAnswer {
    client_id: String,
    client_secret: Secret,
    #[serde(default)]
    client_id_issued_at: Option<i64>,
    client_secret_expires_at: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartDeviceAuthorizationBody<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    start_url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateTokenBody<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    client_secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_verifier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

impl<'a> CreateTokenBody<'a> {
    fn new(grant_type: &'static str, client_id: &'a str, client_secret: &'a Secret) -> Self {
        Self {
            grant_type,
            client_id,
            client_secret: client_secret.expose(),
            device_code: None,
            redirect_uri: None,
            code_verifier: None,
            code: None,
            refresh_token: None,
        }
    }
}

impl OidcClient {
    /// `base_url` is the resolved endpoint, e.g. `https://oidc.eu-west-1.amazonaws.com`.
    pub fn new(base_url: impl Into<String>, http: Arc<HttpClient>) -> Self {
        Self { base_url: base_url.into(), http }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn register_client(
        &self,
        req: &RegisterClientRequest,
    ) -> Result<Registration, HttpError> {
        let body = RegisterClientBody {
            client_name: &req.client_name,
            client_type: "public",
            grant_types: req.grant_types.as_deref(),
            redirect_uris: req.redirect_uris.as_deref(),
            issuer_url: req.issuer_url.as_deref(),
            scopes: req.scopes.as_deref(),
        };
        let request =
            self.post(OIDC.operation("RegisterClient"), "/client/register", json(&body), true);
        let answer: RegisterClientAnswer = self.http.send_json(&request).await?;
        let invalid = |detail: &str| HttpError::InvalidResponse {
            operation: OIDC.operation("RegisterClient"),
            url: request.url.clone(),
            detail: detail.to_owned(),
        };
        let client_secret_expires_at = Timestamp::from_second(answer.client_secret_expires_at)
            .map_err(|_| invalid("clientSecretExpiresAt is not a time"))?;
        let client_id_issued_at = match answer.client_id_issued_at {
            Some(secs) => Some(
                Timestamp::from_second(secs)
                    .map_err(|_| invalid("clientIdIssuedAt is not a time"))?,
            ),
            None => None,
        };
        Ok(Registration {
            client_id: answer.client_id,
            client_secret: answer.client_secret,
            client_id_issued_at,
            client_secret_expires_at,
        })
    }

    pub async fn start_device_authorization(
        &self,
        client_id: &str,
        client_secret: &Secret,
        start_url: &str,
    ) -> Result<DeviceAuthorization, HttpError> {
        let body = StartDeviceAuthorizationBody {
            client_id,
            client_secret: client_secret.expose(),
            start_url,
        };
        let request = self.post(
            OIDC.operation("StartDeviceAuthorization"),
            "/device_authorization",
            json(&body),
            true,
        );
        self.http.send_json(&request).await
    }

    /// One poll of the device flow. Pending and slow-down answers come back as errors with
    /// their codes; they are not retried here because they are the protocol.
    pub async fn create_token_device(
        &self,
        client_id: &str,
        client_secret: &Secret,
        device_code: &Secret,
    ) -> Result<TokenGrant, HttpError> {
        let mut body = CreateTokenBody::new(GRANT_DEVICE_CODE, client_id, client_secret);
        body.device_code = Some(device_code.expose());
        self.create_token(&body).await
    }

    /// `redirect_uri` must be the one of the authorize URL, with its port.
    pub async fn create_token_authorization_code(
        &self,
        client_id: &str,
        client_secret: &Secret,
        code: &Secret,
        redirect_uri: &str,
        code_verifier: &Secret,
    ) -> Result<TokenGrant, HttpError> {
        let mut body = CreateTokenBody::new(GRANT_AUTHORIZATION_CODE, client_id, client_secret);
        body.redirect_uri = Some(redirect_uri);
        body.code_verifier = Some(code_verifier.expose());
        body.code = Some(code.expose());
        self.create_token(&body).await
    }

    pub async fn create_token_refresh(
        &self,
        client_id: &str,
        client_secret: &Secret,
        refresh_token: &Secret,
    ) -> Result<TokenGrant, HttpError> {
        let mut body = CreateTokenBody::new(GRANT_REFRESH_TOKEN, client_id, client_secret);
        body.refresh_token = Some(refresh_token.expose());
        self.create_token(&body).await
    }

    /// Authorization codes and refresh tokens may be single-use, so CreateToken is never
    /// retried behind the caller's back.
    async fn create_token(&self, body: &CreateTokenBody<'_>) -> Result<TokenGrant, HttpError> {
        let request = self.post(OIDC.operation("CreateToken"), "/token", json(body), false);
        self.http.send_json(&request).await
    }

    fn post(
        &self,
        operation: Operation,
        path: &str,
        json: Vec<u8>,
        retry: bool,
    ) -> Request<'static> {
        Request {
            operation,
            method: Method::Post,
            url: http::build_url(&self.base_url, path, &[]),
            bearer: None,
            json: Some(json),
            form: None,
            headers: Vec::new(),
            retry,
        }
    }
}

/// Our own request structs always serialize.
fn json(body: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::http::test_server::{Canned, TestServer};
    use crate::http::{HttpSettings, test_server::closed_port_url};

    fn client(server: &TestServer) -> OidcClient {
        OidcClient::new(server.base_url.clone(), Arc::new(HttpClient::new(HttpSettings::default())))
    }

    #[test]
    fn pkce_registration_matches_the_cli() {
        let req = pkce_registration_request(
            "botocore-client-my-sso",
            "https://d-1234567890.awsapps.com/start",
            &[],
        );
        let body = RegisterClientBody {
            client_name: &req.client_name,
            client_type: "public",
            grant_types: req.grant_types.as_deref(),
            redirect_uris: req.redirect_uris.as_deref(),
            issuer_url: req.issuer_url.as_deref(),
            scopes: req.scopes.as_deref(),
        };
        assert_eq!(
            String::from_utf8(json(&body)).expect("utf-8"),
            r#"{"clientName":"botocore-client-my-sso","clientType":"public","grantTypes":["authorization_code","refresh_token"],"redirectUris":["http://127.0.0.1/oauth/callback"],"issuerUrl":"https://d-1234567890.awsapps.com/start","scopes":["sso:account:access"]}"#
        );
        let scoped = pkce_registration_request("n", "u", &["a:b".to_owned(), "c:d".to_owned()]);
        assert_eq!(scoped.scopes, Some(vec!["a:b".to_owned(), "c:d".to_owned()]));
    }

    #[test]
    fn device_registration_sends_scopes_only_when_configured() {
        let req = device_registration_request("n", Some(&[]));
        assert_eq!(req.scopes, None);
        assert_eq!(req.grant_types, None);
        assert_eq!(device_registration_request("n", None).scopes, None);
        let scopes = vec!["sso:account:access".to_owned()];
        assert_eq!(device_registration_request("n", Some(&scopes)).scopes, Some(scopes));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn register_client_posts_the_request_and_reads_the_answer() {
        let server = TestServer::start(vec![Canned::json(
            200,
            r#"{"clientId":"CID","clientSecret":"CSECRET","clientIdIssuedAt":1700000000,"clientSecretExpiresAt":1707776000}"#,
        )]);
        let reg = client(&server)
            .register_client(&device_registration_request("aws-sso-corp", None))
            .await
            .expect("registered");
        assert_eq!(reg.client_id, "CID");
        assert_eq!(reg.client_secret.expose(), "CSECRET");
        assert_eq!(
            reg.client_id_issued_at,
            Some(Timestamp::from_second(1_700_000_000).expect("t"))
        );
        assert_eq!(reg.client_secret_expires_at.as_second(), 1_707_776_000);
        assert!(!format!("{reg:?}").contains("CSECRET"));

        let sent = &server.requests()[0];
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.target, "/client/register");
        assert_eq!(sent.header("content-type"), Some("application/json"));
        assert_eq!(sent.header("authorization"), None);
        assert_eq!(sent.json(), json!({"clientName": "aws-sso-corp", "clientType": "public"}));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn start_device_authorization_sends_the_three_members() {
        let server = TestServer::start(vec![Canned::json(
            200,
            r#"{"deviceCode":"DEV","userCode":"ABCD-EFGH","verificationUri":"https://device.sso.us-east-1.amazonaws.com/","verificationUriComplete":"https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH","expiresIn":600,"interval":1}"#,
        )]);
        let auth = client(&server)
            .start_device_authorization(
                "CID",
                &Secret::new("CSECRET"),
                "https://x.awsapps.com/start",
            )
            .await
            .expect("started");
        assert_eq!(auth.device_code.expose(), "DEV");
        assert_eq!(auth.user_code, "ABCD-EFGH");
        assert_eq!(auth.expires_in, 600);
        assert_eq!(auth.interval, Some(1));
        let sent = &server.requests()[0];
        assert_eq!(sent.target, "/device_authorization");
        assert_eq!(
            sent.json(),
            json!({"clientId": "CID", "clientSecret": "CSECRET", "startUrl": "https://x.awsapps.com/start"})
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn create_token_sends_each_grant_as_the_cli_does() {
        let token =
            r#"{"accessToken":"AT","tokenType":"Bearer","expiresIn":28800,"refreshToken":"RT"}"#;
        let server = TestServer::start(vec![
            Canned::json(200, token),
            Canned::json(200, token),
            Canned::json(200, r#"{"accessToken":"AT2","expiresIn":3600}"#),
        ]);
        let oidc = client(&server);
        let secret = Secret::new("CSECRET");
        let grant = oidc
            .create_token_device("CID", &secret, &Secret::new("DEVCODE"))
            .await
            .expect("device");
        assert_eq!(grant.access_token.expose(), "AT");
        assert_eq!(grant.refresh_token.as_ref().map(Secret::expose), Some("RT"));
        assert_eq!(grant.expires_in, 28800);
        assert_eq!(grant.token_type.as_deref(), Some("Bearer"));
        oidc.create_token_authorization_code(
            "CID",
            &secret,
            &Secret::new("AUTHCODE"),
            "http://127.0.0.1:55555/oauth/callback",
            &Secret::new("VERIFIER"),
        )
        .await
        .expect("auth code");
        let refreshed = oidc
            .create_token_refresh("CID", &secret, &Secret::new("RTOKEN"))
            .await
            .expect("refresh");
        assert_eq!(refreshed.refresh_token, None);

        let sent = server.requests();
        assert!(sent.iter().all(|r| r.target == "/token" && r.method == "POST"));
        assert_eq!(
            sent[0].json(),
            json!({"grantType": "urn:ietf:params:oauth:grant-type:device_code", "clientId": "CID", "clientSecret": "CSECRET", "deviceCode": "DEVCODE"})
        );
        assert_eq!(
            sent[1].json(),
            json!({"grantType": "authorization_code", "clientId": "CID", "clientSecret": "CSECRET", "redirectUri": "http://127.0.0.1:55555/oauth/callback", "codeVerifier": "VERIFIER", "code": "AUTHCODE"})
        );
        assert_eq!(
            sent[2].json(),
            json!({"grantType": "refresh_token", "clientId": "CID", "clientSecret": "CSECRET", "refreshToken": "RTOKEN"})
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn create_token_errors_carry_the_code_and_are_not_retried() {
        let server = TestServer::start(vec![
            Canned::json(500, r#"{"error":"server_error","error_description":"oops"}"#).header(
                "x-amzn-ErrorType",
                "InternalServerException:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/",
            ),
            Canned::json(200, "{}"),
        ]);
        let err = client(&server)
            .create_token_refresh("CID", &Secret::new("CSECRET"), &Secret::new("RTOKEN"))
            .await
            .expect_err("500");
        assert_eq!(err.code(), Some("InternalServerException"));
        assert!(err.to_string().contains("oops"), "{err}");
        assert!(!err.to_string().contains("RTOKEN"));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_unreachable_endpoint_names_the_operation_and_url() {
        let base = closed_port_url();
        let http = HttpClient::new(HttpSettings::default().with_max_attempts(1));
        let err = OidcClient::new(base.clone(), Arc::new(http))
            .create_token_refresh("CID", &Secret::new("S"), &Secret::new("R"))
            .await
            .expect_err("closed");
        let text = err.to_string();
        assert!(text.contains(&format!("{base}/token")), "{text}");
        assert!(text.contains("CreateToken"), "{text}");
    }
}
