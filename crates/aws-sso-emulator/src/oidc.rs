//! The SSO-OIDC service: RegisterClient, StartDeviceAuthorization, CreateToken (device code,
//! authorization code with PKCE, refresh token), the `/authorize` page and the device
//! verification page.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::state::{
    AUTHORIZATION_CODE_GRANT, AccessToken, AuthorizationCode, AuthorizeDecision, Client,
    DEVICE_GRANT, DeviceAuthorization, PollOutcome, REFRESH_TOKEN_GRANT, RefreshToken, State,
    pkce_challenge, random_chars, random_token,
};
use crate::wire::{ApiRequest, ApiResponse, OidcError, OidcErrorKind, percent_encode};

/// How long a code from `/authorize` may wait for its exchange.
const AUTHORIZATION_CODE_TTL_MS: u64 = 5 * 60 * 1000;
/// Letters of a user code: no vowels, so no words, and nothing that reads as another letter.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const SECOND_MS: u64 = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterClientRequest {
    client_name: Option<String>,
    client_type: Option<String>,
    scopes: Option<Vec<String>>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    issuer_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartDeviceAuthorizationRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    start_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    device_code: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

fn invalid_request(description: impl Into<String>) -> OidcError {
    OidcError::new(OidcErrorKind::InvalidRequest, description)
}

fn invalid_grant(description: impl Into<String>) -> OidcError {
    OidcError::new(OidcErrorKind::InvalidGrant, description)
}

/// Parses a JSON body; an empty body is an empty object, as AWS services read it.
fn parse_body<T: DeserializeOwned>(request: &ApiRequest) -> Result<T, OidcError> {
    let body: &[u8] =
        if request.body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &request.body };
    serde_json::from_slice(body)
        .map_err(|error| invalid_request(format!("The request body is not valid: {error}")))
}

/// A required member: present and not empty.
fn required<'a>(value: &'a Option<String>, member: &str) -> Result<&'a str, OidcError> {
    match value.as_deref() {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(invalid_request(format!("Missing required parameter: {member}"))),
    }
}

fn respond(result: Result<ApiResponse, OidcError>) -> ApiResponse {
    result.unwrap_or_else(OidcError::into_response)
}

/// `POST /client/register`
pub fn register_client(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    respond(register_client_inner(state, request, now))
}

fn register_client_inner(
    state: &mut State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, OidcError> {
    let body: RegisterClientRequest = parse_body(request)?;
    let name = required(&body.client_name, "clientName")?.to_owned();
    let client_type = required(&body.client_type, "clientType")?;
    if client_type != "public" {
        return Err(OidcError::new(
            OidcErrorKind::InvalidClientMetadata,
            format!("Invalid client type: {client_type}; only public clients are supported"),
        ));
    }
    let grant_types = body.grant_types.filter(|grants| !grants.is_empty());
    for grant in grant_types.iter().flatten() {
        if ![DEVICE_GRANT, AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT].contains(&grant.as_str())
        {
            return Err(OidcError::new(
                OidcErrorKind::UnsupportedGrantType,
                format!("Unsupported grant type: {grant}"),
            ));
        }
    }
    let redirect_uris = body.redirect_uris.unwrap_or_default();
    let wants_code = grant_types.iter().flatten().any(|g| g == AUTHORIZATION_CODE_GRANT);
    if wants_code {
        if redirect_uris.is_empty() {
            return Err(OidcError::new(
                OidcErrorKind::InvalidRedirectUri,
                "The authorization_code grant needs at least one redirect URI",
            ));
        }
        if body.issuer_url.as_deref().is_none_or(str::is_empty) {
            return Err(invalid_request("The authorization_code grant needs an issuerUrl"));
        }
    }
    for uri in &redirect_uris {
        if LoopbackUri::parse(uri).is_none() {
            return Err(OidcError::new(
                OidcErrorKind::InvalidRedirectUri,
                format!(
                    "Invalid redirect URI: {uri}; only http://127.0.0.1 loopback URIs are allowed"
                ),
            ));
        }
    }
    let scopes = body.scopes.unwrap_or_default();
    if let Some(scope) = scopes.iter().find(|s| s.is_empty() || s.contains(char::is_whitespace)) {
        return Err(OidcError::new(
            OidcErrorKind::InvalidScope,
            format!("Invalid scope: {scope:?}"),
        ));
    }

    let client_id = random_token(16);
    let secret = random_token(48);
    let issued_at = now / SECOND_MS;
    let expires_at_secs = issued_at + state.settings.registration_ttl;
    state.clients.insert(
        client_id.clone(),
        Client {
            secret: secret.clone(),
            name,
            scopes,
            grant_types,
            redirect_uris,
            issuer_url: body.issuer_url,
            registered_at: now,
            expires_at: expires_at_secs * SECOND_MS,
        },
    );
    Ok(ApiResponse::json(
        200,
        &json!({
            "authorizationEndpoint": null,
            "clientId": client_id,
            "clientIdIssuedAt": issued_at,
            "clientSecret": secret,
            "clientSecretExpiresAt": expires_at_secs,
            "tokenEndpoint": null,
        }),
    ))
}

/// Looks up a registered, unexpired client by id and secret.
fn authenticate<'a>(
    state: &'a State,
    client_id: &str,
    client_secret: &str,
    now: u64,
) -> Result<&'a Client, OidcError> {
    let client =
        state.clients.get(client_id).filter(|client| client.secret == client_secret).ok_or_else(
            || OidcError::new(OidcErrorKind::InvalidClient, "Invalid client provided"),
        )?;
    if now >= client.expires_at {
        return Err(OidcError::new(
            OidcErrorKind::InvalidClient,
            "The client registration has expired; register the client again",
        ));
    }
    Ok(client)
}

/// `POST /device_authorization`
pub fn start_device_authorization(
    state: &mut State,
    request: &ApiRequest,
    now: u64,
) -> ApiResponse {
    respond(start_device_authorization_inner(state, request, now))
}

fn start_device_authorization_inner(
    state: &mut State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, OidcError> {
    let body: StartDeviceAuthorizationRequest = parse_body(request)?;
    let client_id = required(&body.client_id, "clientId")?;
    let client_secret = required(&body.client_secret, "clientSecret")?;
    let start_url = required(&body.start_url, "startUrl")?;
    if !(start_url.starts_with("https://") || start_url.starts_with("http://")) {
        return Err(invalid_request(format!("Invalid startUrl: {start_url}")));
    }
    let client = authenticate(state, client_id, client_secret, now)?;
    if !client.allows_grant(DEVICE_GRANT) {
        return Err(OidcError::new(
            OidcErrorKind::UnauthorizedClient,
            "The client is not registered for the device_code grant",
        ));
    }

    let settings = &state.settings;
    let device_code = random_token(32);
    let user_code = loop {
        let letters = random_chars(USER_CODE_LETTERS, 8);
        let code = format!("{}-{}", &letters[..4], &letters[4..]);
        if !state.device_codes.values().any(|d| d.user_code == code) {
            break code;
        }
    };
    let verification_uri = format!("{}/device", settings.base_url);
    let response = json!({
        "deviceCode": device_code,
        "expiresIn": settings.device_code_ttl,
        "interval": settings.interval,
        "userCode": user_code,
        "verificationUri": verification_uri,
        "verificationUriComplete": format!("{verification_uri}?user_code={user_code}"),
    });
    let authorization = DeviceAuthorization {
        client_id: client_id.to_owned(),
        user_code,
        expires_at: now + settings.device_code_ttl * SECOND_MS,
        approved_in_browser: false,
        pending_answers: 0,
        slow_downs_left: settings.slow_down,
        denied: false,
        used: false,
    };
    state.device_codes.insert(device_code, authorization);
    Ok(ApiResponse::json(200, &response))
}

/// `POST /token`
pub fn create_token(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    respond(create_token_inner(state, request, now))
}

fn create_token_inner(
    state: &mut State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, OidcError> {
    let body: CreateTokenRequest = parse_body(request)?;
    let client_id = required(&body.client_id, "clientId")?;
    let client_secret = required(&body.client_secret, "clientSecret")?;
    let grant_type = required(&body.grant_type, "grantType")?;
    if ![DEVICE_GRANT, AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT].contains(&grant_type) {
        return Err(OidcError::new(
            OidcErrorKind::UnsupportedGrantType,
            format!("Unsupported grant type: {grant_type}"),
        ));
    }
    let client = authenticate(state, client_id, client_secret, now)?;
    if !client.allows_grant(grant_type) {
        return Err(OidcError::new(
            OidcErrorKind::UnauthorizedClient,
            format!("The client is not registered for the {grant_type} grant"),
        ));
    }
    let issue_refresh_token = state.settings.refresh_tokens && !client.scopes.is_empty();

    let session = match grant_type {
        DEVICE_GRANT => {
            let device_code = required(&body.device_code, "deviceCode")?;
            redeem_device_code(state, client_id, device_code, now)?;
            state.new_session()
        }
        AUTHORIZATION_CODE_GRANT => {
            let code = required(&body.code, "code")?;
            let redirect_uri = required(&body.redirect_uri, "redirectUri")?;
            let verifier = required(&body.code_verifier, "codeVerifier")?;
            redeem_authorization_code(state, client_id, code, redirect_uri, verifier, now)?;
            state.new_session()
        }
        _ => {
            let presented = required(&body.refresh_token, "refreshToken")?;
            let session = state
                .refresh_tokens
                .get(presented)
                .filter(|token| token.client_id == client_id)
                .map(|token| token.session)
                .ok_or_else(|| invalid_grant("Invalid refresh token provided"))?;
            let access_token = issue_access_token(state, session, now);
            let mut response = json!({
                "accessToken": access_token,
                "expiresIn": state.settings.token_ttl,
                "idToken": null,
                "refreshToken": null,
                "tokenType": "Bearer",
            });
            if state.settings.rotate_refresh_tokens {
                state.refresh_tokens.remove(presented);
                response["refreshToken"] = issue_refresh(state, client_id, session).into();
            }
            return Ok(ApiResponse::json(200, &response));
        }
    };

    let access_token = issue_access_token(state, session, now);
    let refresh_token = issue_refresh_token.then(|| issue_refresh(state, client_id, session));
    Ok(ApiResponse::json(
        200,
        &json!({
            "accessToken": access_token,
            "expiresIn": state.settings.token_ttl,
            "idToken": null,
            "refreshToken": refresh_token,
            "tokenType": "Bearer",
        }),
    ))
}

fn issue_access_token(state: &mut State, session: u64, now: u64) -> String {
    let token = format!("aoa{}", random_token(96));
    let expires_at = now + state.settings.token_ttl * SECOND_MS;
    state.access_tokens.insert(token.clone(), AccessToken { session, expires_at });
    token
}

fn issue_refresh(state: &mut State, client_id: &str, session: u64) -> String {
    let token = format!("aor{}", random_token(96));
    state
        .refresh_tokens
        .insert(token.clone(), RefreshToken { client_id: client_id.to_owned(), session });
    token
}

fn redeem_device_code(
    state: &mut State,
    client_id: &str,
    device_code: &str,
    now: u64,
) -> Result<(), OidcError> {
    let approval = state.settings.device_approval;
    let authorization = state
        .device_codes
        .get_mut(device_code)
        .filter(|authorization| authorization.client_id == client_id)
        .ok_or_else(|| invalid_grant("Invalid device code provided"))?;
    match authorization.poll(approval, now) {
        PollOutcome::Approved => Ok(()),
        PollOutcome::Pending => Err(OidcError::new(
            OidcErrorKind::AuthorizationPending,
            "Authorization is still pending",
        )),
        PollOutcome::SlowDown => Err(OidcError::new(
            OidcErrorKind::SlowDown,
            "Client is polling too quickly; add 5 seconds to the polling interval",
        )),
        PollOutcome::Denied => Err(OidcError::new(
            OidcErrorKind::AccessDenied,
            "The user denied the authorization request",
        )),
        PollOutcome::Expired => {
            Err(OidcError::new(OidcErrorKind::ExpiredToken, "Device code has expired"))
        }
        PollOutcome::AlreadyUsed => Err(invalid_grant("Device code has already been used")),
    }
}

fn redeem_authorization_code(
    state: &mut State,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
    now: u64,
) -> Result<(), OidcError> {
    let authorization = state
        .auth_codes
        .get_mut(code)
        .filter(|authorization| authorization.client_id == client_id)
        .ok_or_else(|| invalid_grant("Invalid authorization code provided"))?;
    // One attempt per code, successful or not (RFC 6749 §4.1.2).
    let already_used = std::mem::replace(&mut authorization.used, true);
    if already_used {
        return Err(invalid_grant("Authorization code has already been used"));
    }
    if now >= authorization.expires_at {
        return Err(invalid_grant("Authorization code has expired"));
    }
    if authorization.redirect_uri != redirect_uri {
        return Err(invalid_grant("redirectUri does not match the one sent to /authorize"));
    }
    if pkce_challenge(code_verifier) != authorization.code_challenge {
        return Err(invalid_grant("Code verifier does not match the code challenge"));
    }
    Ok(())
}

/// A redirect URI on the loopback interface, the only kind public clients may use.
#[derive(Debug, PartialEq, Eq)]
struct LoopbackUri<'a> {
    port: Option<u16>,
    path_and_query: &'a str,
}

impl LoopbackUri<'_> {
    fn parse(uri: &str) -> Option<LoopbackUri<'_>> {
        let rest = uri.strip_prefix("http://127.0.0.1")?;
        let (port, path_and_query) = match rest.strip_prefix(':') {
            Some(after_colon) => {
                let end = after_colon.find('/').unwrap_or(after_colon.len());
                (Some(after_colon[..end].parse().ok()?), &after_colon[end..])
            }
            None => (None, rest),
        };
        path_and_query.starts_with('/').then_some(LoopbackUri { port, path_and_query })
    }

    /// Loopback redirects match a registration whatever their port (RFC 8252 §7.3).
    fn matches_registered(&self, registered: &str) -> bool {
        LoopbackUri::parse(registered).is_some_and(|r| {
            r.path_and_query == self.path_and_query && r.port.is_none_or(|p| Some(p) == self.port)
        })
    }
}

/// `GET /authorize`: the browser step of the authorization-code flow. The emulated user is
/// already signed in and decides at once.
pub fn authorize(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    let param = |name| request.query_param(name).filter(|v| !v.is_empty());
    let Some(client_id) = param("client_id") else {
        return error_page(400, "The client_id parameter is missing.");
    };
    let client = match state.clients.get(client_id) {
        Some(client) if now < client.expires_at => client,
        Some(_) => return error_page(400, "The client registration has expired."),
        None => return error_page(400, "The client is not registered."),
    };
    let Some(redirect_uri) = param("redirect_uri") else {
        return error_page(400, "The redirect_uri parameter is missing.");
    };
    let redirect_allowed = LoopbackUri::parse(redirect_uri).is_some_and(|uri| {
        client.redirect_uris.iter().any(|registered| uri.matches_registered(registered))
    });
    if !redirect_allowed {
        return error_page(400, "The redirect_uri is not registered for this client.");
    }

    let state_param = request.query_param("state");
    let redirect = |pairs: Vec<(&str, &str)>| {
        let mut query: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
        if let Some(value) = state_param {
            query.push(format!("state={}", percent_encode(value)));
        }
        ApiResponse::redirect(format!("{redirect_uri}?{}", query.join("&")))
    };
    let refuse = |error: &str, description: &str| {
        redirect(vec![("error", error), ("error_description", description)])
    };

    if !client.allows_grant(AUTHORIZATION_CODE_GRANT) {
        return refuse(
            "unauthorized_client",
            "The client is not registered for authorization_code",
        );
    }
    if param("response_type") != Some("code") {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    if param("code_challenge_method") != Some("S256") {
        return refuse("invalid_request", "code_challenge_method must be S256");
    }
    let Some(code_challenge) = param("code_challenge") else {
        return refuse("invalid_request", "code_challenge is required");
    };
    if let Some(scopes) = param("scopes") {
        let unknown = scopes.split(' ').find(|scope| !client.scopes.iter().any(|s| s == scope));
        if let Some(scope) = unknown.filter(|_| !client.scopes.is_empty()) {
            let description = format!("The scope {scope} was not registered for this client");
            return refuse("invalid_scope", &description);
        }
    }
    if state.settings.authorize == AuthorizeDecision::Deny {
        return refuse("access_denied", "The user denied the authorization request");
    }

    let code = random_token(32);
    let response = redirect(vec![("code", &code)]);
    state.auth_codes.insert(
        code,
        AuthorizationCode {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: code_challenge.to_owned(),
            expires_at: now + AUTHORIZATION_CODE_TTL_MS,
            used: false,
        },
    );
    response
}

/// `GET /device`: the verification page; opening it with a user code approves that code.
pub fn device_page(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    let Some(user_code) = request.query_param("user_code").filter(|c| !c.is_empty()) else {
        return page(
            200,
            "Authorize request",
            "Open this page with <code>?user_code=XXXX-XXXX</code> to approve a device.",
        );
    };
    let user_code = user_code.trim().to_ascii_uppercase();
    let found = state
        .device_codes
        .values_mut()
        .find(|d| d.user_code == user_code && !d.used && now < d.expires_at);
    match found {
        Some(authorization) => {
            authorization.approved_in_browser = true;
            let client_name =
                state.clients.get(&authorization.client_id).map(|c| c.name.as_str()).unwrap_or("");
            page(
                200,
                "Request approved",
                &format!(
                    "Code {} of {} is approved. You can close this window.",
                    html_escape(&user_code),
                    html_escape(client_name)
                ),
            )
        }
        None => page(
            404,
            "Unknown code",
            &format!("No pending authorization has the code {}.", html_escape(&user_code)),
        ),
    }
}

/// `HEAD`/`GET /start`: the access portal's start page, or, with `--start-redirect`, the 302
/// that a start URL on a custom domain answers with (the AWS CLI follows it to find the portal).
pub fn start_page(state: &State) -> ApiResponse {
    match &state.settings.start_redirect {
        Some(location) => ApiResponse::redirect(location.clone()),
        None => page(200, "AWS access portal", "The emulated access portal."),
    }
}

fn error_page(status: u16, message: &str) -> ApiResponse {
    page(status, "Authorization failed", message)
}

fn page(status: u16, title: &str, message: &str) -> ApiResponse {
    ApiResponse::html(
        status,
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{message}</p><p>aws-sso-emulator</p></body></html>\n"
        ),
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{DeviceApproval, Directory, Settings};
    use crate::wire::parse_query;
    use serde_json::Value;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:55555/oauth/callback";

    fn state(settings: Settings) -> State {
        State::new(settings, Directory::generate(1, 1).unwrap())
    }

    fn post(body: Value) -> ApiRequest {
        ApiRequest {
            method: "POST".into(),
            body: body.to_string().into_bytes(),
            ..Default::default()
        }
    }

    fn get(query: &str) -> ApiRequest {
        ApiRequest { method: "GET".into(), query: parse_query(query), ..Default::default() }
    }

    fn error_type(response: &ApiResponse) -> Option<&'static str> {
        response.error_type
    }

    fn register(state: &mut State, body: Value) -> (String, String) {
        let response = register_client(state, &post(body), 0);
        assert_eq!(response.status, 200, "{:?}", response.body_json());
        let body = response.body_json().unwrap();
        (body["clientId"].as_str().unwrap().into(), body["clientSecret"].as_str().unwrap().into())
    }

    fn register_pkce(state: &mut State) -> (String, String) {
        register(
            state,
            json!({"clientName":"botocore-client-s","clientType":"public",
                "grantTypes":["authorization_code","refresh_token"],
                "redirectUris":["http://127.0.0.1/oauth/callback"],
                "issuerUrl":"https://d-1234567890.awsapps.com/start","scopes":["sso:account:access"]}),
        )
    }

    fn authorize_code(state: &mut State, client_id: &str) -> String {
        let query = format!(
            "response_type=code&client_id={client_id}&redirect_uri={}&state=s%2F1&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge={CHALLENGE}",
            percent_encode(REDIRECT)
        );
        let response = authorize(state, &get(&query), 0);
        assert_eq!(response.status, 302);
        let location = response.header("location").unwrap();
        let (base, query) = location.split_once('?').unwrap();
        assert_eq!(base, REDIRECT);
        let query = parse_query(query);
        assert_eq!(query[1], ("state".to_owned(), "s/1".to_owned()));
        query[0].1.clone()
    }

    fn exchange(
        state: &mut State,
        id: &str,
        secret: &str,
        code: &str,
        verifier: &str,
    ) -> ApiResponse {
        let body = json!({"grantType":"authorization_code","clientId":id,"clientSecret":secret,
            "redirectUri":REDIRECT,"codeVerifier":verifier,"code":code});
        create_token(state, &post(body), 1000)
    }

    #[test]
    fn pkce_exchange_with_the_right_verifier_gives_tokens_once() {
        let mut state = state(Settings::default());
        let (id, secret) = register_pkce(&mut state);
        let code = authorize_code(&mut state, &id);
        let response = exchange(&mut state, &id, &secret, &code, VERIFIER);
        assert_eq!(response.status, 200);
        let body = response.body_json().unwrap();
        assert_eq!(body["tokenType"], "Bearer");
        assert_eq!(body["expiresIn"], 28_800);
        assert!(body["refreshToken"].is_string());
        let again = exchange(&mut state, &id, &secret, &code, VERIFIER);
        assert_eq!(error_type(&again), Some("InvalidGrantException"));
    }

    #[test]
    fn pkce_exchange_with_a_wrong_verifier_is_an_invalid_grant() {
        let mut state = state(Settings::default());
        let (id, secret) = register_pkce(&mut state);
        let code = authorize_code(&mut state, &id);
        let response = exchange(&mut state, &id, &secret, &code, "not-the-verifier");
        assert_eq!(response.status, 400);
        assert_eq!(error_type(&response), Some("InvalidGrantException"));
    }

    #[test]
    fn pkce_exchange_needs_the_same_redirect_uri() {
        let mut state = state(Settings::default());
        let (id, secret) = register_pkce(&mut state);
        let code = authorize_code(&mut state, &id);
        let body = json!({"grantType":"authorization_code","clientId":id,"clientSecret":secret,
            "redirectUri":"http://127.0.0.1:1/oauth/callback","codeVerifier":VERIFIER,"code":code});
        let response = create_token(&mut state, &post(body), 0);
        assert_eq!(error_type(&response), Some("InvalidGrantException"));
    }

    #[test]
    fn the_start_page_is_the_portal_or_the_redirect_of_a_custom_domain() {
        let plain = start_page(&state(Settings::default()));
        assert_eq!(plain.status, 200);
        let portal = "https://ssoins-1111.portal.eu-west-1.app.aws";
        let redirected = start_page(&state(Settings {
            start_redirect: Some(portal.to_owned()),
            ..Settings::default()
        }));
        assert_eq!((redirected.status, redirected.header("location")), (302, Some(portal)));
        assert_eq!(crate::server::Operation::route("HEAD", "/start").name(), "StartPage");
    }

    #[test]
    fn authorize_refuses_an_unregistered_redirect_path() {
        let mut state = state(Settings::default());
        let (id, _) = register_pkce(&mut state);
        let query = format!(
            "response_type=code&client_id={id}&redirect_uri={}&state=x&code_challenge_method=S256&code_challenge={CHALLENGE}",
            percent_encode("http://127.0.0.1:5/elsewhere")
        );
        assert_eq!(authorize(&mut state, &get(&query), 0).status, 400);
    }

    #[test]
    fn authorize_deny_redirects_with_access_denied() {
        let mut state =
            state(Settings { authorize: AuthorizeDecision::Deny, ..Settings::default() });
        let (id, _) = register_pkce(&mut state);
        let query = format!(
            "response_type=code&client_id={id}&redirect_uri={}&state=xyz&code_challenge_method=S256&code_challenge={CHALLENGE}",
            percent_encode(REDIRECT)
        );
        let response = authorize(&mut state, &get(&query), 0);
        let location = response.header("location").unwrap();
        assert!(location.starts_with(&format!("{REDIRECT}?error=access_denied&")), "{location}");
        assert!(location.ends_with("&state=xyz"), "{location}");
    }

    #[test]
    fn device_flow_pends_then_issues_a_token_and_refreshes_with_rotation() {
        let mut state = state(Settings::default());
        let (id, secret) = register(
            &mut state,
            json!({"clientName":"c","clientType":"public","scopes":["sso:account:access"]}),
        );
        let start = start_device_authorization(
            &mut state,
            &post(
                json!({"clientId":id,"clientSecret":secret,"startUrl":"https://x.awsapps.com/start"}),
            ),
            0,
        );
        let start = start.body_json().unwrap();
        let user_code = start["userCode"].as_str().unwrap();
        assert_eq!(user_code.len(), 9);
        assert_eq!(&user_code[4..5], "-");
        assert_eq!(
            start["verificationUriComplete"],
            format!("http://127.0.0.1:0/device?user_code={user_code}")
        );
        let poll = post(json!({"clientId":id,"clientSecret":secret,"grantType":DEVICE_GRANT,
            "deviceCode":start["deviceCode"]}));
        let first = create_token(&mut state, &poll, 0);
        assert_eq!(error_type(&first), Some("AuthorizationPendingException"));
        let second = create_token(&mut state, &poll, 0).body_json().unwrap();
        let refresh = second["refreshToken"].as_str().unwrap().to_owned();

        let refresh_request = post(json!({"clientId":id,"clientSecret":secret,
            "grantType":"refresh_token","refreshToken":refresh}));
        let refreshed = create_token(&mut state, &refresh_request, 0).body_json().unwrap();
        assert_ne!(refreshed["accessToken"], second["accessToken"]);
        assert!(refreshed["refreshToken"].is_string());
        assert_ne!(refreshed["refreshToken"], second["refreshToken"]);
        let reused = create_token(&mut state, &refresh_request, 0);
        assert_eq!(error_type(&reused), Some("InvalidGrantException"));
    }

    #[test]
    fn without_scopes_there_is_no_refresh_token() {
        let mut state = state(Settings {
            device_approval: DeviceApproval::AfterPolls(0),
            ..Settings::default()
        });
        let (id, secret) = register(&mut state, json!({"clientName":"c","clientType":"public"}));
        let start = start_device_authorization(
            &mut state,
            &post(json!({"clientId":id,"clientSecret":secret,"startUrl":"https://x"})),
            0,
        )
        .body_json()
        .unwrap();
        let poll = post(json!({"clientId":id,"clientSecret":secret,"grantType":DEVICE_GRANT,
            "deviceCode":start["deviceCode"]}));
        let token = create_token(&mut state, &poll, 0).body_json().unwrap();
        assert!(token["accessToken"].is_string());
        assert!(token["refreshToken"].is_null());
    }

    #[test]
    fn missing_members_and_bad_secrets_are_reported_as_the_model_says() {
        let mut state = state(Settings::default());
        let missing = register_client(&mut state, &post(json!({"clientType":"public"})), 0);
        assert_eq!(error_type(&missing), Some("InvalidRequestException"));
        assert_eq!(missing.body_json().unwrap()["error"], "invalid_request");
        let (id, _) = register(&mut state, json!({"clientName":"c","clientType":"public"}));
        let wrong_secret = start_device_authorization(
            &mut state,
            &post(json!({"clientId":id,"clientSecret":"nope","startUrl":"https://x"})),
            0,
        );
        assert_eq!(wrong_secret.status, 401);
        assert_eq!(error_type(&wrong_secret), Some("InvalidClientException"));
    }

    #[test]
    fn an_expired_registration_is_an_invalid_client() {
        let mut state = state(Settings { registration_ttl: 10, ..Settings::default() });
        let (id, secret) = register(&mut state, json!({"clientName":"c","clientType":"public"}));
        let late = start_device_authorization(
            &mut state,
            &post(json!({"clientId":id,"clientSecret":secret,"startUrl":"https://x"})),
            10_000,
        );
        assert_eq!(error_type(&late), Some("InvalidClientException"));
    }

    #[test]
    fn loopback_redirects_match_registrations_without_a_port() {
        let uri = LoopbackUri::parse("http://127.0.0.1:4242/oauth/callback").unwrap();
        assert!(uri.matches_registered("http://127.0.0.1/oauth/callback"));
        assert!(uri.matches_registered("http://127.0.0.1:4242/oauth/callback"));
        assert!(!uri.matches_registered("http://127.0.0.1:1/oauth/callback"));
        assert!(!uri.matches_registered("http://127.0.0.1/other"));
        assert!(LoopbackUri::parse("http://example.com/oauth/callback").is_none());
        assert!(LoopbackUri::parse("http://127.0.0.1.evil.com/x").is_none());
    }
}
