//! The SSO portal: ListAccounts, ListAccountRoles, GetRoleCredentials and Logout, with paging
//! tokens a client can only use after percent-encoding them correctly.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::state::{Identity, IssuedCredentials, State, random_chars, random_token};
use crate::wire::{ApiRequest, ApiResponse, PortalError, PortalErrorKind};

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;
/// Leading bytes of every paging token. They encode as `+/+/`, and the 16-byte token always ends
/// in `==`, so every token holds the three characters a client must percent-encode.
const PAGE_TOKEN_MAGIC: [u8; 3] = [0xFB, 0xFF, 0xBF];
const PAGE_TOKEN_VERSION: u8 = 1;
pub const UPPERCASE_AND_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const SECRET_KEY_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn invalid_request(message: impl Into<String>) -> PortalError {
    PortalError::new(PortalErrorKind::InvalidRequest, message)
}

/// Makes and checks `nextToken` values: the position in one listing, with a MAC so a changed
/// token is refused rather than misread.
pub struct PageTokens<'a> {
    key: &'a [u8; 32],
}

impl PageTokens<'_> {
    pub fn new(key: &[u8; 32]) -> PageTokens<'_> {
        PageTokens { key }
    }

    fn mac(&self, listing: &str, offset: u32) -> [u8; 8] {
        let digest = Sha256::new()
            .chain_update(self.key)
            .chain_update(listing.as_bytes())
            .chain_update([0])
            .chain_update(offset.to_be_bytes())
            .finalize();
        let mut mac = [0; 8];
        mac.copy_from_slice(&digest[..8]);
        mac
    }

    /// The token for the page of `listing` that starts at `offset`.
    pub fn encode(&self, listing: &str, offset: u32) -> String {
        let mut blob = Vec::with_capacity(16);
        blob.extend(PAGE_TOKEN_MAGIC);
        blob.push(PAGE_TOKEN_VERSION);
        blob.extend(offset.to_be_bytes());
        blob.extend(self.mac(listing, offset));
        STANDARD.encode(blob)
    }

    /// The offset a token stands for, if it was made by us for this listing.
    pub fn decode(&self, listing: &str, token: &str) -> Result<u32, PortalError> {
        let refused = || invalid_request("Invalid nextToken provided");
        let blob = STANDARD.decode(token).map_err(|_| refused())?;
        if blob.len() != 16 || blob[..3] != PAGE_TOKEN_MAGIC || blob[3] != PAGE_TOKEN_VERSION {
            return Err(refused());
        }
        let mut offset = [0; 4];
        offset.copy_from_slice(&blob[4..8]);
        let offset = u32::from_be_bytes(offset);
        if blob[8..] != self.mac(listing, offset) {
            return Err(refused());
        }
        Ok(offset)
    }
}

/// The page size and start of a listing request.
fn page_bounds(
    state: &State,
    request: &ApiRequest,
    listing: &str,
    total: usize,
) -> Result<(usize, usize), PortalError> {
    let size = match request.query_param("max_result") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
            .ok_or_else(|| {
                invalid_request(format!(
                    "1 validation error detected: Value '{text}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {MAX_PAGE_SIZE}"
                ))
            })?,
    };
    let start = match request.query_param("next_token") {
        None => 0,
        Some(token) => {
            let offset = PageTokens::new(&state.page_key).decode(listing, token)?;
            usize::try_from(offset)
                .ok()
                .filter(|offset| *offset < total)
                .ok_or_else(|| invalid_request("Invalid nextToken provided"))?
        }
    };
    Ok((start, size))
}

/// The page of `items` from `start`, as JSON, with the token of the next page or `null` on the
/// last one. Only the page itself is converted, so paging through thousands stays linear.
fn page<T>(
    state: &State,
    listing: &str,
    items: &[T],
    start: usize,
    size: usize,
    to_json: impl Fn(&T) -> Value,
) -> (Vec<Value>, Value) {
    let end = start.saturating_add(size).min(items.len());
    let next = match u32::try_from(end) {
        Ok(end32) if end < items.len() => {
            Value::String(PageTokens::new(&state.page_key).encode(listing, end32))
        }
        _ => Value::Null,
    };
    (items[start.min(end)..end].iter().map(to_json).collect(), next)
}

fn required<'a>(request: &'a ApiRequest, name: &str, member: &str) -> Result<&'a str, PortalError> {
    request.query_param(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        invalid_request(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// The session behind the request's bearer token.
fn session(state: &State, request: &ApiRequest, now: u64) -> Result<u64, PortalError> {
    request
        .bearer_token
        .as_deref()
        .and_then(|token| state.session_of(token, now))
        .ok_or_else(PortalError::unauthorized)
}

fn respond(result: Result<ApiResponse, PortalError>) -> ApiResponse {
    result.unwrap_or_else(PortalError::into_response)
}

/// `GET /assignment/accounts`
pub fn list_accounts(state: &State, request: &ApiRequest, now: u64) -> ApiResponse {
    respond(list_accounts_inner(state, request, now))
}

fn list_accounts_inner(
    state: &State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, PortalError> {
    session(state, request, now)?;
    let accounts = &state.directory.accounts;
    let (start, size) = page_bounds(state, request, "accounts", accounts.len())?;
    let (accounts, next) = page(state, "accounts", accounts, start, size, |a| {
        json!({"accountId": a.account_id, "accountName": a.account_name,
            "emailAddress": a.email_address})
    });
    Ok(ApiResponse::json(200, &json!({"nextToken": next, "accountList": accounts})))
}

/// `GET /assignment/roles`
pub fn list_account_roles(state: &State, request: &ApiRequest, now: u64) -> ApiResponse {
    respond(list_account_roles_inner(state, request, now))
}

fn list_account_roles_inner(
    state: &State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, PortalError> {
    session(state, request, now)?;
    let account_id = required(request, "account_id", "accountId")?;
    let account = state.directory.account(account_id).ok_or_else(|| {
        PortalError::new(
            PortalErrorKind::ResourceNotFound,
            format!("Account {account_id} was not found or is not assigned to you"),
        )
    })?;
    let listing = format!("roles:{account_id}");
    let (start, size) = page_bounds(state, request, &listing, account.roles.len())?;
    let (roles, next) = page(
        state,
        &listing,
        &account.roles,
        start,
        size,
        |role| json!({"roleName": role, "accountId": account.account_id}),
    );
    Ok(ApiResponse::json(200, &json!({"nextToken": next, "roleList": roles})))
}

/// `GET /federation/credentials`
pub fn get_role_credentials(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    respond(get_role_credentials_inner(state, request, now))
}

fn get_role_credentials_inner(
    state: &mut State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, PortalError> {
    session(state, request, now)?;
    let role_name = required(request, "role_name", "roleName")?;
    let account_id = required(request, "account_id", "accountId")?;
    let assigned = state
        .directory
        .account(account_id)
        .is_some_and(|account| account.roles.iter().any(|role| role == role_name));
    // The service says no more than this, whether the account is unknown or only the role is
    // not assigned: it does not tell which accounts exist.
    if !assigned {
        return Err(PortalError::new(PortalErrorKind::Forbidden, "No access"));
    }
    // Whole seconds, as the service sends them, in milliseconds.
    let expiration = (now / 1000 + state.settings.credentials_ttl) * 1000;
    let access_key_id = format!("ASIA{}", random_chars(UPPERCASE_AND_DIGITS, 16));
    let issued = IssuedCredentials {
        secret_access_key: random_chars(SECRET_KEY_CHARS, 40),
        session_token: format!("IQoJb3JpZ2luX2Vj{}", random_token(240)),
        expires_at: expiration,
        identity: sso_identity(account_id, role_name),
    };
    let credentials = json!({
        "accessKeyId": access_key_id,
        "secretAccessKey": issued.secret_access_key,
        "sessionToken": issued.session_token,
        "expiration": expiration,
    });
    // The federation endpoint and STS accept only credentials given out here or by STS, as the
    // real ones do.
    state.remember_credentials(access_key_id, issued, now);
    Ok(ApiResponse::json(200, &json!({"roleCredentials": credentials})))
}

/// The user every login of the emulator stands for, as the session name of its role sessions.
pub const SSO_USER: &str = "aws-sso-emulator-user";

/// Who the credentials of `role_name` in `account_id` are: the role Identity Center makes for a
/// permission set, `AWSReservedSSO_<name>_<16 hex digits>`, in a session named after the user.
fn sso_identity(account_id: &str, role_name: &str) -> Identity {
    let digest = Sha256::digest(format!("{account_id}/{role_name}").as_bytes());
    let suffix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let role = format!("AWSReservedSSO_{role_name}_{suffix}");
    Identity {
        partition: "aws".to_owned(),
        account: account_id.to_owned(),
        user_id: format!("{}:{SSO_USER}", crate::sts::role_id(&format!("{account_id}/{role}"))),
        arn: format!("arn:aws:sts::{account_id}:assumed-role/{role}/{SSO_USER}"),
    }
}

/// `POST /logout`: ends the session of the token; later calls with it are unauthorized.
pub fn logout(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    match session(state, request, now) {
        Ok(session) => {
            state.end_session(session);
            ApiResponse::empty(200)
        }
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AccessToken, Directory, Generated, NameStyle, Settings};
    use crate::wire::{parse_query, percent_encode};

    const TOKEN: &str = "access-token";

    fn state(accounts: usize) -> State {
        let mut state = State::new(Settings::default(), Directory::generate(accounts, 3).unwrap());
        state.access_tokens.insert(TOKEN.into(), AccessToken { session: 7, expires_at: 1000 });
        state
    }

    fn get(query: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            query: parse_query(query),
            bearer_token: Some(TOKEN.into()),
            ..Default::default()
        }
    }

    #[test]
    fn page_tokens_need_percent_encoding_and_round_trip() {
        let key = [9; 32];
        let tokens = PageTokens::new(&key);
        for offset in [0, 1, 20, 99_999] {
            let token = tokens.encode("accounts", offset);
            assert!(token.contains('/') && token.contains('+') && token.contains('='), "{token}");
            assert_eq!(tokens.decode("accounts", &token), Ok(offset));
        }
    }

    #[test]
    fn page_tokens_refuse_tampering_other_listings_and_other_keys() {
        let key = [9; 32];
        let tokens = PageTokens::new(&key);
        let token = tokens.encode("roles:1", 2);
        let mut tampered = token.clone().into_bytes();
        tampered[6] = if tampered[6] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [tampered.as_str(), "", "garbage", &token.replace('+', " ")] {
            let error = tokens.decode("roles:1", bad).unwrap_err();
            assert_eq!(error.kind, PortalErrorKind::InvalidRequest);
        }
        assert!(tokens.decode("roles:2", &token).is_err());
        assert!(PageTokens::new(&[8; 32]).decode("roles:1", &token).is_err());
    }

    #[test]
    fn paging_through_accounts_returns_each_once_in_order() {
        let state = state(7);
        let mut seen = Vec::new();
        let mut query = "max_result=3".to_owned();
        loop {
            let body = list_accounts(&state, &get(&query), 0).body_json().unwrap();
            let page = body["accountList"].as_array().unwrap();
            assert!(page.len() <= 3);
            seen.extend(page.iter().map(|a| a["accountId"].as_str().unwrap().to_owned()));
            match body["nextToken"].as_str() {
                Some(token) => query = format!("max_result=3&next_token={}", percent_encode(token)),
                None => break,
            }
        }
        let expected: Vec<_> =
            state.directory.accounts.iter().map(|a| a.account_id.clone()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn an_unencoded_token_is_refused() {
        let state = state(30);
        let body = list_accounts(&state, &get(""), 0).body_json().unwrap();
        assert_eq!(body["accountList"].as_array().unwrap().len(), 20);
        let token = body["nextToken"].as_str().unwrap();
        let raw = list_accounts(&state, &get(&format!("next_token={token}")), 0);
        assert_eq!(raw.status, 400);
        assert_eq!(raw.error_type, Some("InvalidRequestException"));
    }

    #[test]
    fn page_size_must_be_between_1_and_100() {
        let state = state(1);
        for bad in ["0", "101", "x", "-1"] {
            let response = list_accounts(&state, &get(&format!("max_result={bad}")), 0);
            assert_eq!(response.status, 400, "max_result={bad}");
        }
        assert_eq!(list_accounts(&state, &get("max_result=100"), 0).status, 200);
    }

    #[test]
    fn roles_come_sorted_and_paged() {
        let state = state(1);
        let body = list_account_roles(&state, &get("account_id=100000000001&max_result=2"), 0)
            .body_json()
            .unwrap();
        let names: Vec<_> =
            body["roleList"].as_array().unwrap().iter().map(|r| r["roleName"].clone()).collect();
        assert_eq!(names, ["AdministratorAccess", "PowerUserAccess"]);
        assert!(body["nextToken"].is_string());
        let missing = list_account_roles(&state, &get("account_id=999999999999"), 0);
        assert_eq!(missing.status, 404);
    }

    #[test]
    fn credentials_expire_after_the_configured_lifetime_in_milliseconds() {
        let mut state = state(1);
        let response = get_role_credentials(
            &mut state,
            &get("role_name=ReadOnlyAccess&account_id=100000000001"),
            500,
        );
        let credentials = &response.body_json().unwrap()["roleCredentials"];
        assert_eq!(credentials["expiration"], 3_600_000);
        assert!(credentials["accessKeyId"].as_str().unwrap().starts_with("ASIA"));
        assert_eq!(credentials["secretAccessKey"].as_str().unwrap().len(), 40);
    }

    #[test]
    fn a_role_not_assigned_or_an_unknown_account_is_forbidden_without_saying_which() {
        let mut state = state(1);
        for query in [
            "role_name=Billing&account_id=100000000001",
            "role_name=ReadOnlyAccess&account_id=999999999999",
        ] {
            let response = get_role_credentials(&mut state, &get(query), 0);
            assert_eq!(response.status, 403, "{query}");
            assert_eq!(
                response.header("x-amzn-errortype"),
                Some(
                    "ForbiddenException:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
                ),
                "{query}"
            );
            assert_eq!(response.body_json(), Some(json!({"message": "No access"})), "{query}");
        }
    }

    #[test]
    fn logout_ends_the_session_and_expired_tokens_are_unauthorized() {
        let mut state = state(1);
        let request = ApiRequest { method: "POST".into(), ..get("") };
        assert_eq!(logout(&mut state, &request, 0).status, 200);
        let after = list_accounts(&state, &get(""), 0);
        assert_eq!(after.status, 401);
        assert_eq!(
            after.body_json(),
            Some(json!({"message":"Session token not found or invalid"}))
        );

        let state = self::state(1);
        assert_eq!(list_accounts(&state, &get(""), 999).status, 200);
        assert_eq!(list_accounts(&state, &get(""), 1000).status, 401);
    }

    fn state_of(spec: Generated) -> State {
        let mut state = State::new(Settings::default(), Directory::generate_with(spec).unwrap());
        state.access_tokens.insert(TOKEN.into(), AccessToken { session: 7, expires_at: 1000 });
        state
    }

    /// Every account of the listing, paged `page_size` at a time as a client would.
    fn all_accounts(state: &State, page_size: usize) -> (Vec<Value>, usize) {
        let (mut accounts, mut pages) = (Vec::new(), 0);
        let mut query = format!("max_result={page_size}");
        loop {
            let body = list_accounts(state, &get(&query), 0).body_json().unwrap();
            pages += 1;
            accounts.extend(body["accountList"].as_array().unwrap().iter().cloned());
            match body["nextToken"].as_str() {
                Some(token) => {
                    query = format!("max_result={page_size}&next_token={}", percent_encode(token))
                }
                None => return (accounts, pages),
            }
        }
    }

    #[test]
    fn an_account_without_roles_is_listed_and_has_an_empty_role_list() {
        let mut state = state_of(Generated {
            accounts: 3,
            roles_per_account: 2,
            without_roles: 1,
            name_style: NameStyle::Plain,
        });
        assert_eq!(all_accounts(&state, 100).0.len(), 3);
        let response = list_account_roles(&state, &get("account_id=100000000001"), 0);
        assert_eq!(response.status, 200);
        assert_eq!(response.body_json(), Some(json!({"nextToken": null, "roleList": []})));
        let credentials = get_role_credentials(
            &mut state,
            &get("role_name=AdministratorAccess&account_id=100000000001"),
            0,
        );
        assert_eq!(credentials.error_type, Some("ForbiddenException"));
    }

    #[test]
    fn hostile_names_come_back_exactly_as_generated() {
        let state = state_of(Generated {
            accounts: 8,
            roles_per_account: 1,
            without_roles: 0,
            name_style: NameStyle::Hostile,
        });
        let listed: Vec<_> = all_accounts(&state, 3)
            .0
            .iter()
            .map(|a| a["accountName"].as_str().unwrap().to_owned())
            .collect();
        let generated: Vec<_> =
            state.directory.accounts.iter().map(|a| a.account_name.clone()).collect();
        assert_eq!(listed, generated);
    }

    #[test]
    fn five_thousand_accounts_page_by_100_quickly() {
        let started = std::time::Instant::now();
        let state = state_of(Generated {
            accounts: 5000,
            roles_per_account: 3,
            without_roles: 0,
            name_style: NameStyle::Plain,
        });
        let (accounts, pages) = all_accounts(&state, 100);
        assert_eq!((accounts.len(), pages), (5000, 50));
        assert_eq!(accounts[4999]["accountName"], "account-5000");
        for account in &state.directory.accounts {
            let query = format!("account_id={}", account.account_id);
            assert_eq!(list_account_roles(&state, &get(&query), 0).status, 200);
        }
        // Quadratic paging or account lookup takes seconds here even in a release build.
        let elapsed = started.elapsed();
        assert!(elapsed < std::time::Duration::from_secs(2), "took {elapsed:?}");
    }
}
