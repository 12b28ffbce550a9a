//! The console federation endpoint, `GET /federation`: `Action=getSigninToken` trades role
//! credentials this emulator gave out for a sign-in token, and `Action=login` sends a browser
//! holding a valid token on to its `Destination`.

use serde::Deserialize;
use serde_json::json;

use crate::state::{State, random_token};
use crate::wire::{ApiRequest, ApiResponse};

/// How long a sign-in token works: 15 minutes, as the service documents.
const SIGNIN_TOKEN_TTL_MS: u64 = 15 * 60 * 1000;

/// The `Session` parameter of getSigninToken.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    session_id: String,
    session_key: String,
    session_token: String,
}

fn bad_request(message: &str) -> ApiResponse {
    ApiResponse::json(400, &json!({ "message": message }))
}

/// `GET /federation`
pub fn federation(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    match request.query_param("Action") {
        Some("getSigninToken") => get_signin_token(state, request, now),
        Some("login") => login(state, request, now),
        _ => bad_request("Action must be getSigninToken or login"),
    }
}

fn get_signin_token(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    if let Some(duration) = request.query_param("SessionDuration") {
        match duration.parse::<u64>() {
            Ok(seconds) if (900..=43_200).contains(&seconds) => {}
            _ => return bad_request("SessionDuration must be between 900 and 43200 seconds"),
        }
    }
    let Some(session) = request.query_param("Session") else {
        return bad_request("the Session parameter is missing");
    };
    let Ok(session) = serde_json::from_str::<Session>(session) else {
        return bad_request("Session must be JSON with sessionId, sessionKey and sessionToken");
    };
    let issued = state.role_credentials.get(&session.session_id);
    let matches = issued.is_some_and(|issued| {
        issued.secret_access_key == session.session_key
            && issued.session_token == session.session_token
    });
    if !matches {
        return bad_request("the credentials in Session were not issued by this emulator");
    }
    if issued.is_some_and(|issued| issued.expires_at <= now) {
        return bad_request("the credentials in Session have expired");
    }
    let token = random_token(48);
    state.signin_tokens.retain(|_, expires_at| *expires_at > now);
    state.signin_tokens.insert(token.clone(), now + SIGNIN_TOKEN_TTL_MS);
    ApiResponse::json(200, &json!({ "SigninToken": token }))
}

fn login(state: &State, request: &ApiRequest, now: u64) -> ApiResponse {
    let valid = request
        .query_param("SigninToken")
        .and_then(|token| state.signin_tokens.get(token))
        .is_some_and(|expires_at| now < *expires_at);
    if !valid {
        return bad_request("the SigninToken is unknown or has expired");
    }
    match request.query_param("Destination") {
        Some(destination)
            if destination.starts_with("https://") || destination.starts_with("http://") =>
        {
            ApiResponse::redirect(destination.to_owned())
        }
        _ => bad_request("Destination must be an http:// or https:// URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Directory, IssuedCredentials, Settings};
    use crate::wire::{parse_query, percent_encode};

    fn state_with_credentials() -> State {
        let mut state = State::new(Settings::default(), Directory::generate(1, 1).unwrap());
        state.role_credentials.insert(
            "ASIAKEY".to_owned(),
            IssuedCredentials {
                secret_access_key: "secret".to_owned(),
                session_token: "token".to_owned(),
                expires_at: 1_000_000,
                ..IssuedCredentials::default()
            },
        );
        state
    }

    fn get(query: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            path: "/federation".into(),
            query: parse_query(query),
            ..Default::default()
        }
    }

    fn signin_query(key: &str, secret: &str, token: &str) -> String {
        let session =
            json!({"sessionId": key, "sessionKey": secret, "sessionToken": token}).to_string();
        format!("Action=getSigninToken&Session={}", percent_encode(&session))
    }

    #[test]
    fn issued_credentials_get_a_token_that_logs_in_to_the_destination() {
        let mut state = state_with_credentials();
        let answer = federation(&mut state, &get(&signin_query("ASIAKEY", "secret", "token")), 0);
        assert_eq!(answer.status, 200);
        let token = answer.body_json().unwrap()["SigninToken"].as_str().unwrap().to_owned();
        let destination = "https://console.aws.amazon.com/?region=eu-west-1";
        let login = format!(
            "Action=login&Issuer=x&Destination={}&SigninToken={}",
            percent_encode(destination),
            percent_encode(&token)
        );
        let answer = federation(&mut state, &get(&login), 1);
        assert_eq!(answer.status, 302);
        assert_eq!(answer.header("location"), Some(destination));
        // Fifteen minutes later the token no longer works.
        let answer = federation(&mut state, &get(&login), SIGNIN_TOKEN_TTL_MS + 1);
        assert_eq!(answer.status, 400);
    }

    #[test]
    fn unknown_wrong_or_expired_credentials_are_refused_with_a_message() {
        let mut state = state_with_credentials();
        for (query, now) in [
            (signin_query("ASIAOTHER", "secret", "token"), 0),
            (signin_query("ASIAKEY", "wrong", "token"), 0),
            (signin_query("ASIAKEY", "secret", "wrong"), 0),
            (signin_query("ASIAKEY", "secret", "token"), 1_000_000),
            ("Action=getSigninToken&Session=notjson".to_owned(), 0),
        ] {
            let answer = federation(&mut state, &get(&query), now);
            assert_eq!(answer.status, 400, "{query}");
            assert!(answer.body_json().unwrap()["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        assert!(state.signin_tokens.is_empty());
    }

    #[test]
    fn login_without_a_known_token_is_refused() {
        let mut state = state_with_credentials();
        let answer = federation(
            &mut state,
            &get("Action=login&Destination=https%3A%2F%2Fexample.com%2F&SigninToken=forged"),
            0,
        );
        assert_eq!(answer.status, 400);
        assert_eq!(federation(&mut state, &get("Action=other"), 0).status, 400);
    }
}
