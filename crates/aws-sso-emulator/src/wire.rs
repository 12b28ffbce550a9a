//! The HTTP shapes both APIs share: a parsed request, a response, how each service carries its
//! errors (`x-amzn-ErrorType` in Coral form plus its own body style), and URL encoding.

use serde_json::{Value, json};

/// Namespace suffix the OIDC service appends to the error type header.
const OIDC_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazonaws.sso.oidc/";
/// Namespace suffix the portal appends to the error type header.
const PORTAL_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/";

/// A request as the emulated services see it, independent of the HTTP library.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The `x-amz-sso_bearer_token` header, when present.
    pub bearer_token: Option<String>,
    /// Every header, names in lowercase, in the order received (for SigV4, which signs them).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// The first value of a query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The first value of a header, by its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A response ready to be written by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// The AWS exception name when this response is an error, for the request log.
    pub error_type: Option<&'static str>,
}

impl ApiResponse {
    pub fn json(status: u16, body: &Value) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.to_string().into_bytes(),
            error_type: None,
        }
    }

    pub fn empty(status: u16) -> ApiResponse {
        ApiResponse { status, headers: Vec::new(), body: Vec::new(), error_type: None }
    }

    pub fn html(status: u16, body: String) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("content-type", "text/html; charset=utf-8".to_owned())],
            body: body.into_bytes(),
            error_type: None,
        }
    }

    pub fn redirect(location: String) -> ApiResponse {
        ApiResponse {
            status: 302,
            headers: vec![("location", location)],
            body: Vec::new(),
            error_type: None,
        }
    }

    /// The value of a header set on this response.
    #[cfg(test)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[cfg(test)]
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The exceptions of the `sso-oidc` model that the emulator answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcErrorKind {
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    InvalidClient,
    UnauthorizedClient,
    InvalidRequest,
    InvalidScope,
    UnsupportedGrantType,
    InvalidClientMetadata,
    InvalidRedirectUri,
    // In the model for every operation; only `--refresh-fault` answers with it.
    InternalServer,
}

impl OidcErrorKind {
    pub fn exception_name(self) -> &'static str {
        match self {
            OidcErrorKind::AuthorizationPending => "AuthorizationPendingException",
            OidcErrorKind::SlowDown => "SlowDownException",
            OidcErrorKind::ExpiredToken => "ExpiredTokenException",
            OidcErrorKind::AccessDenied => "AccessDeniedException",
            OidcErrorKind::InvalidGrant => "InvalidGrantException",
            OidcErrorKind::InvalidClient => "InvalidClientException",
            OidcErrorKind::UnauthorizedClient => "UnauthorizedClientException",
            OidcErrorKind::InvalidRequest => "InvalidRequestException",
            OidcErrorKind::InvalidScope => "InvalidScopeException",
            OidcErrorKind::UnsupportedGrantType => "UnsupportedGrantTypeException",
            OidcErrorKind::InvalidClientMetadata => "InvalidClientMetadataException",
            OidcErrorKind::InvalidRedirectUri => "InvalidRedirectUriException",
            OidcErrorKind::InternalServer => "InternalServerException",
        }
    }

    /// The OAuth 2.0 `error` code (RFC 6749 §5.2, RFC 8628 §3.5) carried in the body.
    pub fn oauth_error(self) -> &'static str {
        match self {
            OidcErrorKind::AuthorizationPending => "authorization_pending",
            OidcErrorKind::SlowDown => "slow_down",
            OidcErrorKind::ExpiredToken => "expired_token",
            OidcErrorKind::AccessDenied => "access_denied",
            OidcErrorKind::InvalidGrant => "invalid_grant",
            OidcErrorKind::InvalidClient => "invalid_client",
            OidcErrorKind::UnauthorizedClient => "unauthorized_client",
            OidcErrorKind::InvalidRequest => "invalid_request",
            OidcErrorKind::InvalidScope => "invalid_scope",
            OidcErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            OidcErrorKind::InvalidClientMetadata => "invalid_client_metadata",
            OidcErrorKind::InvalidRedirectUri => "invalid_redirect_uri",
            OidcErrorKind::InternalServer => "server_error",
        }
    }

    /// The model's `httpStatusCode` for the exception.
    pub fn status(self) -> u16 {
        match self {
            OidcErrorKind::InvalidClient => 401,
            OidcErrorKind::InternalServer => 500,
            _ => 400,
        }
    }
}

/// An OIDC error: type in the header, OAuth-style body, no `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcError {
    pub kind: OidcErrorKind,
    pub description: String,
}

impl OidcError {
    pub fn new(kind: OidcErrorKind, description: impl Into<String>) -> OidcError {
        OidcError { kind, description: description.into() }
    }

    pub fn into_response(self) -> ApiResponse {
        let body = json!({"error": self.kind.oauth_error(), "error_description": self.description});
        let mut response = ApiResponse::json(self.kind.status(), &body);
        response.headers.push((
            "x-amzn-ErrorType",
            format!("{}:{}", self.kind.exception_name(), OIDC_NAMESPACE),
        ));
        response.error_type = Some(self.kind.exception_name());
        response
    }
}

/// The exceptions of the `sso` (portal) model, plus the three the service sends outside the
/// model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalErrorKind {
    InvalidRequest,
    Unauthorized,
    /// Not in the model, yet what GetRoleCredentials answers for a role the user does not have
    /// (`No access`), as `aws` users see it: botocore reports it as a generic ClientError.
    Forbidden,
    TooManyRequests,
    ResourceNotFound,
    InternalServer,
    UnknownOperation,
}

impl PortalErrorKind {
    pub fn exception_name(self) -> &'static str {
        match self {
            PortalErrorKind::InvalidRequest => "InvalidRequestException",
            PortalErrorKind::Unauthorized => "UnauthorizedException",
            PortalErrorKind::Forbidden => "ForbiddenException",
            PortalErrorKind::TooManyRequests => "TooManyRequestsException",
            PortalErrorKind::ResourceNotFound => "ResourceNotFoundException",
            PortalErrorKind::InternalServer => "InternalServerException",
            PortalErrorKind::UnknownOperation => "UnknownOperationException",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            PortalErrorKind::InvalidRequest => 400,
            PortalErrorKind::Unauthorized => 401,
            PortalErrorKind::Forbidden => 403,
            PortalErrorKind::TooManyRequests => 429,
            PortalErrorKind::ResourceNotFound | PortalErrorKind::UnknownOperation => 404,
            PortalErrorKind::InternalServer => 500,
        }
    }
}

/// A portal error: type in the header, body `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalError {
    pub kind: PortalErrorKind,
    pub message: String,
}

impl PortalError {
    pub fn new(kind: PortalErrorKind, message: impl Into<String>) -> PortalError {
        PortalError { kind, message: message.into() }
    }

    /// What the portal answers for a missing, unknown, expired or logged-out access token.
    pub fn unauthorized() -> PortalError {
        PortalError::new(PortalErrorKind::Unauthorized, "Session token not found or invalid")
    }

    pub fn into_response(self) -> ApiResponse {
        let mut response = ApiResponse::json(self.kind.status(), &json!({"message": self.message}));
        response.headers.push((
            "x-amzn-ErrorType",
            format!("{}:{}", self.kind.exception_name(), PORTAL_NAMESPACE),
        ));
        if self.kind == PortalErrorKind::TooManyRequests {
            response.headers.push(("retry-after", "1".to_owned()));
        }
        response.error_type = Some(self.kind.exception_name());
        response
    }
}

/// Percent-encodes everything but the RFC 3986 unreserved characters, as botocore does.
/// Hand-written, as the decoding below: a few lines, where a URL crate would be the emulator's
/// only use of one.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes one query-string component. A `+` is a space, as in every AWS query parser, so a
/// client that forgets to encode a `+` in a token gets its token back damaged, as it would from
/// the service.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match hex_pair(bytes[i + 1], bytes[i + 2]) {
                Some(decoded) => {
                    out.push(decoded);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |c: u8| char::from(c).to_digit(16);
    u8::try_from(digit(high)? * 16 + digit(low)?).ok()
}

/// Splits a raw query string into decoded name/value pairs, in order.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (percent_decode(name), percent_decode(value)),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_and_plus_is_a_space() {
        let query = parse_query("next_token=ab%2Fc%2B%3D&state=a+b&flag&empty=");
        assert_eq!(
            query,
            vec![
                ("next_token".to_owned(), "ab/c+=".to_owned()),
                ("state".to_owned(), "a b".to_owned()),
                ("flag".to_owned(), String::new()),
                ("empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn a_stray_percent_is_kept() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn encoding_round_trips_through_decoding() {
        let text = "http://127.0.0.1:5/oauth/callback?x=a b&c=+/=~";
        let encoded = percent_encode(text);
        assert_eq!(
            encoded,
            "http%3A%2F%2F127.0.0.1%3A5%2Foauth%2Fcallback%3Fx%3Da%20b%26c%3D%2B%2F%3D~"
        );
        assert_eq!(percent_decode(&encoded), text);
    }

    #[test]
    fn oidc_errors_carry_type_header_and_oauth_body() {
        let response =
            OidcError::new(OidcErrorKind::AuthorizationPending, "Authorization is still pending")
                .into_response();
        assert_eq!(response.status, 400);
        assert_eq!(
            response.header("x-amzn-errortype"),
            Some(
                "AuthorizationPendingException:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"
            )
        );
        assert_eq!(
            response.body_json(),
            Some(
                json!({"error":"authorization_pending","error_description":"Authorization is still pending"})
            )
        );
        assert_eq!(OidcError::new(OidcErrorKind::InvalidClient, "x").into_response().status, 401);
        assert_eq!(OidcError::new(OidcErrorKind::InternalServer, "x").into_response().status, 500);
    }

    #[test]
    fn portal_throttling_says_when_to_retry() {
        let response =
            PortalError::new(PortalErrorKind::TooManyRequests, "Rate exceeded").into_response();
        assert_eq!(response.status, 429);
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(response.body_json(), Some(json!({"message":"Rate exceeded"})));
        assert!(
            response
                .header("x-amzn-errortype")
                .is_some_and(|v| v.starts_with("TooManyRequestsException:"))
        );
    }
}
