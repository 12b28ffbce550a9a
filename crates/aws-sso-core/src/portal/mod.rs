//! The SSO portal (docs/aws-contracts.md §2): ListAccounts and ListAccountRoles with paging,
//! GetRoleCredentials and Logout, authenticated by the access token in
//! `x-amz-sso_bearer_token`.
//!
//! - [`listing`]: every account and its roles, fetched concurrently, and how a listing updates
//!   the account cache.

pub mod listing;

use std::sync::Arc;

use serde::Deserialize;

use crate::cache::role_credentials::RoleCredentials;
use crate::env;
use crate::http::{self, Api, HttpClient, HttpError, Method, Operation, Request};
use crate::secret::Secret;

pub use crate::http::RateLimiter;
pub use listing::{
    FailedAccount, ListedAccount, Listing, ListingOptions, ListingProgress, list_everything,
    merge_into_cache,
};

/// The SSO portal, as the HTTP layer names it. A refused bearer token there means the login
/// expired or was logged out.
pub static PORTAL: Api = Api {
    name: "SSO portal",
    endpoint_variable: env::AWS_ENDPOINT_URL_SSO,
    unauthorized_hint: Some("The SSO session has expired or was logged out. Run: aws-sso-login"),
};

pub(crate) const LIST_ACCOUNTS: Operation = PORTAL.operation("ListAccounts");
const LIST_ACCOUNT_ROLES: Operation = PORTAL.operation("ListAccountRoles");
pub(crate) const GET_ROLE_CREDENTIALS: Operation = PORTAL.operation("GetRoleCredentials");
const LOGOUT: Operation = PORTAL.operation("Logout");

/// The largest page the portal gives (`maxResults` is at most 100).
pub(crate) const PAGE_SIZE: u32 = 100;

/// A client of one SSO portal endpoint.
#[derive(Clone, Debug)]
pub struct PortalClient {
    base_url: String,
    http: Arc<HttpClient>,
}

/// An account the token can reach.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    pub account_id: String,
    #[serde(default)]
    pub account_name: String,
    #[serde(default)]
    pub email_address: Option<String>,
}

/// A role the token can assume in an account.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleInfo {
    pub role_name: String,
    pub account_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountPage {
    #[serde(default)]
    account_list: Vec<AccountInfo>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolePage {
    #[serde(default)]
    role_list: Vec<RoleInfo>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentialsAnswer {
    role_credentials: RoleCredentialsBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentialsBody {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Secret,
    /// Epoch milliseconds.
    expiration: i64,
}

impl PortalClient {
    /// `base_url` is the resolved endpoint, e.g. `https://portal.sso.eu-west-1.amazonaws.com`.
    pub fn new(base_url: impl Into<String>, http: Arc<HttpClient>) -> Self {
        Self { base_url: base_url.into(), http }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The HTTP client, with its counters of requests sent and throttling met.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The same portal, whose requests all wait on `limiter` (`None`: no limit), counted apart.
    pub fn with_rate_limiter(&self, limiter: Option<Arc<RateLimiter>>) -> PortalClient {
        PortalClient {
            base_url: self.base_url.clone(),
            http: Arc::new(self.http.with_rate_limiter(limiter)),
        }
    }

    /// One page of accounts and the token of the next page, if any.
    pub async fn list_accounts_page(
        &self,
        token: &Secret,
        next_token: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<(Vec<AccountInfo>, Option<String>), HttpError> {
        let max = max_results.map(|m| m.to_string());
        let mut query = Vec::new();
        if let Some(max) = &max {
            query.push(("max_result", max.as_str()));
        }
        if let Some(next) = next_token {
            query.push(("next_token", next));
        }
        let request = self.get(LIST_ACCOUNTS, "/assignment/accounts", &query, token);
        let page: AccountPage = self.http.send_json(&request).await?;
        Ok((page.account_list, non_empty(page.next_token)))
    }

    /// Every account, 100 per page.
    pub async fn list_accounts(&self, token: &Secret) -> Result<Vec<AccountInfo>, HttpError> {
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let (page, following) =
                self.list_accounts_page(token, next.as_deref(), Some(PAGE_SIZE)).await?;
            accounts.extend(page);
            next = self.next_page(LIST_ACCOUNTS, "/assignment/accounts", next, following)?;
            if next.is_none() {
                return Ok(accounts);
            }
        }
    }

    /// One page of the roles in an account and the token of the next page, if any.
    pub async fn list_account_roles_page(
        &self,
        token: &Secret,
        account_id: &str,
        next_token: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<(Vec<RoleInfo>, Option<String>), HttpError> {
        let max = max_results.map(|m| m.to_string());
        let mut query = vec![("account_id", account_id)];
        if let Some(max) = &max {
            query.push(("max_result", max.as_str()));
        }
        if let Some(next) = next_token {
            query.push(("next_token", next));
        }
        let request = self.get(LIST_ACCOUNT_ROLES, "/assignment/roles", &query, token);
        let page: RolePage = self.http.send_json(&request).await?;
        Ok((page.role_list, non_empty(page.next_token)))
    }

    /// Every role in an account, 100 per page.
    pub async fn list_account_roles(
        &self,
        token: &Secret,
        account_id: &str,
    ) -> Result<Vec<RoleInfo>, HttpError> {
        let mut roles = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let (page, following) = self
                .list_account_roles_page(token, account_id, next.as_deref(), Some(PAGE_SIZE))
                .await?;
            roles.extend(page);
            next = self.next_page(LIST_ACCOUNT_ROLES, "/assignment/roles", next, following)?;
            if next.is_none() {
                return Ok(roles);
            }
        }
    }

    /// Short-lived credentials for a role; `expiration` comes in epoch milliseconds.
    pub async fn get_role_credentials(
        &self,
        token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials, HttpError> {
        let query = [("role_name", role_name), ("account_id", account_id)];
        let request = self.get(GET_ROLE_CREDENTIALS, "/federation/credentials", &query, token);
        let answer: RoleCredentialsAnswer = self.http.send_json(&request).await?;
        let creds = answer.role_credentials;
        let expiration = crate::time::from_millis(creds.expiration).ok_or_else(|| {
            HttpError::InvalidResponse {
                operation: GET_ROLE_CREDENTIALS,
                url: request.url.clone(),
                detail: "expiration is not a time".to_owned(),
            }
        })?;
        Ok(RoleCredentials {
            access_key_id: creds.access_key_id,
            secret_access_key: creds.secret_access_key,
            session_token: creds.session_token,
            expiration,
            account_id: account_id.to_owned(),
        })
    }

    /// Ends the session on the service side: the token stops working everywhere.
    pub async fn logout(&self, token: &Secret) -> Result<(), HttpError> {
        let request = Request {
            operation: LOGOUT,
            method: Method::Post,
            url: http::build_url(&self.base_url, "/logout", &[]),
            bearer: Some(token),
            json: None,
            form: None,
            headers: Vec::new(),
            retry: true,
        };
        self.http.send(&request).await.map(drop)
    }

    fn get<'a>(
        &self,
        operation: Operation,
        path: &str,
        query: &[(&str, &str)],
        token: &'a Secret,
    ) -> Request<'a> {
        Request {
            operation,
            method: Method::Get,
            url: http::build_url(&self.base_url, path, query),
            bearer: Some(token),
            json: None,
            form: None,
            headers: Vec::new(),
            retry: true,
        }
    }

    /// The token of the page after `current`; a service that hands back the same token would
    /// page forever, so that is an error.
    pub(crate) fn next_page(
        &self,
        operation: Operation,
        path: &str,
        current: Option<String>,
        following: Option<String>,
    ) -> Result<Option<String>, HttpError> {
        if following.is_some() && following == current {
            return Err(HttpError::InvalidResponse {
                operation,
                url: http::build_url(&self.base_url, path, &[]),
                detail: "the service returned the same page token twice".to_owned(),
            });
        }
        Ok(following)
    }
}

fn non_empty(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_server::{Canned, TestServer};
    use crate::http::{HttpSettings, test_server::closed_port_url};

    fn portal(server: &TestServer) -> PortalClient {
        let settings = HttpSettings {
            backoff_base: std::time::Duration::from_millis(5),
            ..HttpSettings::default()
        };
        PortalClient::new(format!("{}/", server.base_url), Arc::new(HttpClient::new(settings)))
    }

    fn token() -> Secret {
        Secret::new("TOKEN-123")
    }

    #[tokio::test(flavor = "current_thread")]
    async fn list_accounts_follows_every_page() {
        let server = TestServer::start(vec![
            Canned::json(
                200,
                r#"{"nextToken":"NEXT/+=","accountList":[{"accountId":"111111111111","accountName":"prod","emailAddress":"p@example.com"}]}"#,
            ),
            Canned::json(503, "{}"),
            Canned::json(
                200,
                r#"{"accountList":[{"accountId":"222222222222","accountName":"dev"}],"nextToken":null}"#,
            ),
        ]);
        let accounts = portal(&server).list_accounts(&token()).await.expect("accounts");
        assert_eq!(
            accounts,
            vec![
                AccountInfo {
                    account_id: "111111111111".to_owned(),
                    account_name: "prod".to_owned(),
                    email_address: Some("p@example.com".to_owned()),
                },
                AccountInfo {
                    account_id: "222222222222".to_owned(),
                    account_name: "dev".to_owned(),
                    email_address: None,
                },
            ]
        );
        let sent = server.requests();
        assert_eq!(sent[0].method, "GET");
        assert_eq!(sent[0].target, "/assignment/accounts?max_result=100");
        assert_eq!(sent[0].header("x-amz-sso_bearer_token"), Some("TOKEN-123"));
        assert_eq!(sent[2].target, "/assignment/accounts?max_result=100&next_token=NEXT%2F%2B%3D");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn list_account_roles_pages_per_account() {
        let server = TestServer::start(vec![
            Canned::json(
                200,
                r#"{"nextToken":"n1","roleList":[{"roleName":"Admin","accountId":"111111111111"}]}"#,
            ),
            Canned::json(
                200,
                r#"{"roleList":[{"roleName":"Read Only","accountId":"111111111111"}]}"#,
            ),
        ]);
        let roles =
            portal(&server).list_account_roles(&token(), "111111111111").await.expect("roles");
        let names: Vec<&str> = roles.iter().map(|r| r.role_name.as_str()).collect();
        assert_eq!(names, ["Admin", "Read Only"]);
        let sent = server.requests();
        assert_eq!(sent[0].target, "/assignment/roles?account_id=111111111111&max_result=100");
        assert_eq!(
            sent[1].target,
            "/assignment/roles?account_id=111111111111&max_result=100&next_token=n1"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_repeated_page_token_is_an_error_not_a_loop() {
        let page = r#"{"nextToken":"same","accountList":[]}"#;
        let server = TestServer::start(vec![Canned::json(200, page), Canned::json(200, page)]);
        let err = portal(&server).list_accounts(&token()).await.expect_err("loop");
        assert!(err.to_string().contains("same page token"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn get_role_credentials_reads_milliseconds() {
        let server = TestServer::start(vec![Canned::json(
            200,
            r#"{"roleCredentials":{"accessKeyId":"ASIAEXAMPLE","secretAccessKey":"SECRET","sessionToken":"SESSION","expiration":1651516560000}}"#,
        )]);
        let creds = portal(&server)
            .get_role_credentials(&token(), "123456789012", "AdministratorAccess")
            .await
            .expect("credentials");
        assert_eq!(creds.access_key_id, "ASIAEXAMPLE");
        assert_eq!(creds.secret_access_key.expose(), "SECRET");
        assert_eq!(creds.session_token.expose(), "SESSION");
        assert_eq!(crate::time::format_cli(creds.expiration), "2022-05-02T18:36:00Z");
        assert_eq!(creds.account_id, "123456789012");
        assert_eq!(
            server.requests()[0].target,
            "/federation/credentials?role_name=AdministratorAccess&account_id=123456789012"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_expired_token_is_unauthorized_with_a_hint() {
        let server = TestServer::start(vec![
            Canned::json(401, r#"{"message":"Session token not found or invalid"}"#),
            Canned::json(401, r#"{"message":"x"}"#)
                .header("x-amzn-ErrorType", "UnauthorizedException"),
        ]);
        let client = portal(&server);
        let err = client.get_role_credentials(&token(), "1", "r").await.expect_err("401");
        assert!(err.is_unauthorized());
        let text = err.to_string();
        assert!(text.contains("Session token not found or invalid"), "{text}");
        assert!(text.contains("Run: aws-sso-login"), "{text}");
        assert!(!text.contains("TOKEN-123"), "{text}");
        let err = client.list_accounts(&token()).await.expect_err("401");
        assert_eq!(err.code(), Some("UnauthorizedException"));
        assert!(err.is_unauthorized());
        assert_eq!(server.requests().len(), 2, "401 is not retried");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn logout_posts_an_empty_body() {
        let server = TestServer::start(vec![Canned::json(200, "")]);
        portal(&server).logout(&token()).await.expect("logged out");
        let sent = &server.requests()[0];
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.target, "/logout");
        assert_eq!(sent.header("content-length"), Some("0"));
        assert_eq!(sent.headers.iter().filter(|(n, _)| n == "content-length").count(), 1);
        assert_eq!(sent.header("x-amz-sso_bearer_token"), Some("TOKEN-123"));
        assert_eq!(sent.body, "");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_unreachable_portal_names_its_endpoint_variable() {
        let http = HttpClient::new(HttpSettings::default().with_max_attempts(1));
        let err = PortalClient::new(closed_port_url(), Arc::new(http))
            .list_accounts(&token())
            .await
            .expect_err("closed");
        assert!(matches!(err, HttpError::Unreachable { operation: LIST_ACCOUNTS, .. }), "{err:?}");
        assert!(err.to_string().contains("AWS_ENDPOINT_URL_SSO)"), "{err}");
    }
}
