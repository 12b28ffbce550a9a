//! The browser flow (docs/aws-contracts.md §1.8): authorization code with PKCE. A loopback listener
//! on 127.0.0.1 receives the browser's redirect with the code, which CreateToken exchanges
//! together with the verifier.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::client::{OidcClient, TokenGrant};
use super::{LoginError, LoginPrompt, random_bytes, service_message};
use crate::http::{percent_encode, truncate_chars};
use crate::secret::Secret;

/// The scope the AWS CLI puts in the authorize URL when none is configured.
const DEFAULT_SCOPE: &str = "sso:account:access";

/// The characters of a code verifier (RFC 7636 "unreserved").
const VERIFIER_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

const VERIFIER_LENGTH: usize = 64;

/// How long one browser connection may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request head we read from the browser.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

const SUCCESS_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>AWS IAM Identity Center</title></head>\n<body style=\"font-family: sans-serif\">\
<h1>Logged in</h1>\n<p>You are logged in to AWS IAM Identity Center. You can close this tab.</p>\
</body></html>\n";

/// Limits of the browser flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkceOptions {
    /// Scopes for the authorize URL; `sso:account:access` when empty.
    pub scopes: Vec<String>,
    /// How long to wait for the browser's redirect.
    pub timeout: Duration,
}

impl Default for PkceOptions {
    fn default() -> Self {
        Self { scopes: Vec::new(), timeout: Duration::from_secs(600) }
    }
}

/// The secrets of one browser login: the code verifier, its challenge, and the state.
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
    /// A random UUID v4, lowercase and hyphenated, as the AWS CLI makes it.
    pub state: String,
}

impl Pkce {
    pub fn generate() -> Result<Self, LoginError> {
        let verifier = new_verifier()?;
        let challenge = code_challenge(&verifier);
        Ok(Self { verifier: Secret::new(verifier), challenge, state: new_state()? })
    }
}

/// 64 characters drawn uniformly from `[A-Za-z0-9-._~]`.
fn new_verifier() -> Result<String, LoginError> {
    // 66 symbols: bytes from 198 up are rejected so that each symbol is equally likely.
    let limit = (256 / VERIFIER_ALPHABET.len() * VERIFIER_ALPHABET.len()) as u8;
    let mut verifier = String::with_capacity(VERIFIER_LENGTH);
    while verifier.len() < VERIFIER_LENGTH {
        for b in random_bytes::<96>()? {
            if b < limit && verifier.len() < VERIFIER_LENGTH {
                verifier
                    .push(char::from(VERIFIER_ALPHABET[usize::from(b) % VERIFIER_ALPHABET.len()]));
            }
        }
    }
    Ok(verifier)
}

/// A random UUID v4 in its lowercase hyphenated form.
fn new_state() -> Result<String, LoginError> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

/// `BASE64URL-NOPAD(SHA-256(verifier))`, the S256 challenge of RFC 7636.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The redirect URI of the authorize URL and of CreateToken: with the listener's port.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/oauth/callback")
}

/// The authorize URL exactly as the AWS CLI builds it: the scheme and host of the OIDC
/// endpoint, `/authorize`, then the parameters in its order, percent-encoded with only `-._~`
/// left as they are, and the challenge last.
pub fn authorize_url(
    oidc_base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
    scopes: &[String],
) -> String {
    let scopes = if scopes.is_empty() { DEFAULT_SCOPE.to_owned() } else { scopes.join(" ") };
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge_method", "S256"),
        ("scopes", scopes.as_str()),
    ];
    let query: Vec<String> =
        params.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
    format!("{}/authorize?{}&code_challenge={code_challenge}", origin(oidc_base), query.join("&"))
}

/// `scheme://host[:port]` of a URL: the AWS CLI drops any path of the endpoint.
fn origin(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else { return url.trim_end_matches('/') };
    let rest = &url[scheme_end + 3..];
    match rest.find(['/', '?', '#']) {
        Some(end) => &url[..scheme_end + 3 + end],
        None => url,
    }
}

/// Logs in through the browser: listener, authorize URL, redirect, CreateToken.
pub async fn authorization_code_flow(
    client: &OidcClient,
    client_id: &str,
    client_secret: &Secret,
    opts: &PkceOptions,
    prompt: &mut dyn LoginPrompt,
) -> Result<TokenGrant, LoginError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| LoginError::Listener { detail: e.to_string() })?;
    let port =
        listener.local_addr().map_err(|e| LoginError::Listener { detail: e.to_string() })?.port();
    let redirect = redirect_uri(port);
    let pkce = Pkce::generate()?;
    let url = authorize_url(
        client.base_url(),
        client_id,
        &redirect,
        &pkce.state,
        &pkce.challenge,
        &opts.scopes,
    );
    prompt.show_authorize_url(&url);
    let code = tokio::time::timeout(opts.timeout, receive_code(&listener, &pkce.state, prompt))
        .await
        .map_err(|_| LoginError::TimedOut { after: opts.timeout })??;
    drop(listener);
    client
        .create_token_authorization_code(client_id, client_secret, &code, &redirect, &pkce.verifier)
        .await
        .map_err(|e| match e.code() {
            Some("ExpiredTokenException") => LoginError::Expired,
            Some("AccessDeniedException") => LoginError::Denied { detail: service_message(&e) },
            _ => LoginError::Http(e),
        })
}

/// What one request to the loopback listener carries.
#[derive(Debug, PartialEq, Eq)]
enum Callback {
    Code {
        code: String,
        state: String,
    },
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
    },
    /// Neither a code and state nor an error, e.g. `/favicon.ico`.
    Ignored,
}

/// Reads the query of a request target as the AWS CLI does: an `error` wins; a code needs its
/// state; the path does not matter; empty values count as absent. Whether the state is the
/// login's own is for [`answer`] to check, for an error as for a code.
fn parse_callback(target: &str) -> Callback {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let get = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .filter(|(k, _)| percent_decode(k) == name)
            .map(|(_, v)| percent_decode(v))
            .find(|v| !v.is_empty())
    };
    if let Some(error) = get("error") {
        return Callback::Error {
            error,
            description: get("error_description"),
            state: get("state"),
        };
    }
    match (get("code"), get("state")) {
        (Some(code), Some(state)) => Callback::Code { code, state },
        _ => Callback::Ignored,
    }
}

/// Form-style decoding: `+` is a space, `%XX` a byte; invalid escapes stay as written.
/// Hand-written: the loopback redirect is the one query string we read, and this is all of it.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves the browser's requests until one carries a code or an error. Requests are read side
/// by side, so a connection a browser opens ahead of time and never uses cannot hold up the
/// real redirect; they are answered one at a time.
async fn receive_code(
    listener: &TcpListener,
    expected_state: &str,
    prompt: &mut dyn LoginPrompt,
) -> Result<Secret, LoginError> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut reading = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((mut stream, _)) => {
                    reading.spawn(async move {
                        let target =
                            tokio::time::timeout(REQUEST_TIMEOUT, read_request_target(&mut stream))
                                .await;
                        (stream, target)
                    });
                }
                Err(e) => tracing::debug!("loopback accept failed: {e}"),
            },
            Some(read) = reading.join_next(), if !reading.is_empty() => {
                let Ok((mut stream, target)) = read else { continue };
                match target {
                    Ok(Ok(Some(target))) => {
                        if let Some(outcome) = answer(&mut stream, &target, expected_state).await {
                            return outcome;
                        }
                    }
                    Ok(Ok(None)) => {
                        let body = page("Only GET is served here.");
                        respond(&mut stream, 405, "Method Not Allowed", &body).await;
                    }
                    Ok(Err(e)) => tracing::debug!("loopback request unreadable: {e}"),
                    Err(_) => tracing::debug!("loopback request too slow"),
                }
            }
            _ = tick.tick() => prompt.waiting(),
        }
    }
}

/// Answers one GET; `Some` when it ends the login.
async fn answer(
    stream: &mut TcpStream,
    target: &str,
    expected_state: &str,
) -> Option<Result<Secret, LoginError>> {
    match parse_callback(target) {
        Callback::Ignored => {
            respond(stream, 404, "Not Found", &page("Nothing here.")).await;
            None
        }
        Callback::Code { state, .. } | Callback::Error { state: Some(state), .. }
            if state != expected_state =>
        {
            foreign(stream).await;
            None
        }
        Callback::Error { state: None, .. } => {
            foreign(stream).await;
            None
        }
        Callback::Code { code, .. } => {
            respond(stream, 200, "OK", SUCCESS_PAGE).await;
            Some(Ok(Secret::new(code)))
        }
        Callback::Error { error, description, .. } => {
            let error = clean(&error, 64, |c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            let description =
                description.map(|d| clean(&d, 200, |c| !c.is_control())).filter(|d| !d.is_empty());
            let body = page(&format!(
                "The login failed: {}. Return to the terminal for details.",
                html_escape(&error)
            ));
            respond(stream, 200, "OK", &body).await;
            Some(Err(if error == "access_denied" {
                LoginError::Denied { detail: description.unwrap_or_default() }
            } else {
                LoginError::Failed { error, description }
            }))
        }
    }
}

/// Refuses a redirect that does not carry this login's `state` and keeps waiting: any local
/// process can reach the listener, and must not be able to end or hijack the login with it.
async fn foreign(stream: &mut TcpStream) {
    let body = page(
        "This answer does not belong to the running login, so it was ignored. Return to the \
         terminal.",
    );
    respond(stream, 400, "Bad Request", &body).await;
}

/// The request target of a GET, `None` for another method.
async fn read_request_target(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_REQUEST_HEAD {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before the request was complete",
            ));
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let request_line = head.lines().next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    Ok((method == "GET").then(|| target.to_owned()))
}

async fn respond(stream: &mut TcpStream, status: u16, reason: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if let Err(e) = stream.write_all(response.as_bytes()).await {
        tracing::debug!("could not answer the browser: {e}");
    }
    let _ = stream.shutdown().await;
}

fn page(message: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>AWS IAM Identity Center</title></head>\n<body style=\"font-family: sans-serif\">\
         <p>{message}</p></body></html>\n"
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Keeps the characters `keep` allows, at most `max` of them: text from a URL is untrusted.
fn clean(text: &str, max: usize, keep: impl Fn(char) -> bool) -> String {
    truncate_chars(&text.chars().filter(|c| keep(*c)).collect::<String>(), max)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::Arc;

    use super::*;
    use crate::http::test_server::{Canned, TestServer};
    use crate::http::{HttpClient, HttpSettings};
    use crate::oidc::{OpenBrowser, RecordingPrompt};

    const ZERO_UUID: &str = "00000000-0000-0000-0000-000000000000";

    #[test]
    fn challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorize_url_is_the_one_the_cli_builds() {
        let url = authorize_url(
            "https://oidc.us-east-1.amazonaws.com",
            "CLIENTID",
            &redirect_uri(55555),
            ZERO_UUID,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            &[],
        );
        assert_eq!(
            url,
            "https://oidc.us-east-1.amazonaws.com/authorize?response_type=code&client_id=CLIENTID&redirect_uri=http%3A%2F%2F127.0.0.1%3A55555%2Foauth%2Fcallback&state=00000000-0000-0000-0000-000000000000&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorize_url_joins_scopes_and_drops_the_endpoint_path() {
        let scopes = ["sso:account:access".to_owned(), "codewhisperer:completions".to_owned()];
        let url =
            authorize_url("http://127.0.0.1:4000/some/path/", "C+D=", "r", "s", "ch", &scopes);
        assert!(url.starts_with("http://127.0.0.1:4000/authorize?"), "{url}");
        assert!(url.contains("&client_id=C%2BD%3D&"), "{url}");
        assert!(
            url.contains("&scopes=sso%3Aaccount%3Aaccess%20codewhisperer%3Acompletions&"),
            "{url}"
        );
        assert!(url.ends_with("&code_challenge=ch"), "{url}");
        assert_eq!(origin("https://oidc.example"), "https://oidc.example");
    }

    #[test]
    fn verifier_and_state_have_the_cli_formats() {
        let a = Pkce::generate().expect("random");
        let b = Pkce::generate().expect("random");
        let verifier = a.verifier.expose();
        assert_eq!(verifier.len(), 64);
        assert!(verifier.bytes().all(|c| VERIFIER_ALPHABET.contains(&c)), "{verifier}");
        assert_eq!(a.challenge, code_challenge(verifier));
        assert_eq!(a.challenge.len(), 43);
        assert_ne!(a.verifier, b.verifier);
        assert_ne!(a.state, b.state);
        let groups: Vec<&str> = a.state.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(
            a.state.bytes().all(|c| c == b'-' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert!(groups[2].starts_with('4'), "version 4: {}", a.state);
        assert!("89ab".contains(&groups[3][..1]), "RFC 4122 variant: {}", a.state);
        assert!(!format!("{a:?}").contains(verifier));
    }

    #[test]
    fn callback_requests_are_read_like_the_cli() {
        assert_eq!(
            parse_callback("/oauth/callback?code=abc%2Fdef&state=s-1"),
            Callback::Code { code: "abc/def".to_owned(), state: "s-1".to_owned() }
        );
        assert_eq!(
            parse_callback("/oauth/callback?error=access_denied&error_description=User+said+no"),
            Callback::Error {
                error: "access_denied".to_owned(),
                description: Some("User said no".to_owned()),
                state: None,
            }
        );
        // An error wins over a code.
        assert!(matches!(
            parse_callback("/x?code=c&state=s&error=server_error"),
            Callback::Error { .. }
        ));
        assert_eq!(parse_callback("/favicon.ico"), Callback::Ignored);
        assert_eq!(parse_callback("/oauth/callback?code=abc"), Callback::Ignored);
        assert_eq!(parse_callback("/oauth/callback?code=&state=s"), Callback::Ignored);
        assert_eq!(percent_decode("100%+%zz%4"), "100% %zz%4");
    }

    /// Sends one GET to the listener as a browser would and gives the status line and body.
    fn browser_get(url: &str) -> (String, String) {
        let rest = url.strip_prefix("http://").expect("http url");
        let (host, path) = rest.split_once('/').expect("path");
        let mut stream = std::net::TcpStream::connect(host).expect("connect");
        write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\r\n")
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let (head, body) = answer.split_once("\r\n\r\n").expect("head");
        assert!(head.contains("Content-Type: text/html"), "{head}");
        assert!(head.contains("Connection: close"), "{head}");
        (head.lines().next().unwrap_or("").to_owned(), body.to_owned())
    }

    fn query_value<'a>(url: &'a str, name: &str) -> &'a str {
        let (_, query) = url.split_once('?').expect("query");
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .expect("parameter present")
    }

    type BrowserVisit =
        Arc<std::sync::Mutex<Option<std::thread::JoinHandle<Vec<(String, String)>>>>>;

    /// A browser that asks for the favicon, then follows the redirect with `query(state)`;
    /// the visit gives the status line and page of that last answer.
    fn browser(query: impl Fn(&str) -> String + Send + 'static) -> (OpenBrowser, BrowserVisit) {
        browser_visits(move |state| vec![query(state)])
    }

    /// As [`browser`], visiting the redirect once with each query in turn.
    fn browser_visits(
        queries: impl Fn(&str) -> Vec<String> + Send + 'static,
    ) -> (OpenBrowser, BrowserVisit) {
        let visit: BrowserVisit = Arc::default();
        let slot = Arc::clone(&visit);
        let open = Box::new(move |url: &str| {
            let redirect = percent_decode(query_value(url, "redirect_uri"));
            let queries = queries(query_value(url, "state"));
            let handle = std::thread::spawn(move || {
                let origin = redirect.trim_end_matches("/oauth/callback").to_owned();
                // Browsers open connections ahead of time and may never use them.
                let preconnect = std::net::TcpStream::connect(&origin["http://".len()..]);
                let (status, _) = browser_get(&format!("{origin}/favicon.ico"));
                assert!(status.contains("404"), "{status}");
                let seen = queries
                    .iter()
                    .map(|query| browser_get(&format!("{redirect}?{query}")))
                    .collect();
                drop(preconnect);
                seen
            });
            *slot.lock().expect("lock") = Some(handle);
        });
        (open, visit)
    }

    fn pages_seen(visit: &BrowserVisit) -> Vec<(String, String)> {
        visit.lock().expect("lock").take().expect("browser opened").join().expect("browser")
    }

    fn page_seen(visit: &BrowserVisit) -> (String, String) {
        pages_seen(visit).pop().expect("one visit")
    }

    fn oidc(server: &TestServer) -> OidcClient {
        OidcClient::new(server.base_url.clone(), Arc::new(HttpClient::new(HttpSettings::default())))
    }

    fn opts(timeout_ms: u64) -> PkceOptions {
        PkceOptions { scopes: Vec::new(), timeout: Duration::from_millis(timeout_ms) }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_browser_flow_exchanges_the_code_with_the_verifier() {
        let server = TestServer::start(vec![Canned::json(
            200,
            r#"{"accessToken":"AT","expiresIn":3600,"refreshToken":"RT","tokenType":"Bearer"}"#,
        )]);
        let (open, visit) = browser(|state| format!("code=AUTH%2BCODE&state={state}"));
        let mut prompt = RecordingPrompt { on_url: Some(open), ..RecordingPrompt::default() };
        let start = std::time::Instant::now();
        let grant = authorization_code_flow(
            &oidc(&server),
            "CID",
            &Secret::new("CS"),
            &opts(10_000),
            &mut prompt,
        )
        .await
        .expect("token");
        assert_eq!(grant.access_token.expose(), "AT");
        assert!(start.elapsed() < Duration::from_secs(5), "held up: {:?}", start.elapsed());
        let (status, page) = page_seen(&visit);
        assert!(status.contains("200"), "{status}");
        assert!(
            page.contains("You are logged in to AWS IAM Identity Center. You can close this tab.")
        );

        let url = &prompt.urls[0];
        assert!(url.starts_with(&format!(
            "{}/authorize?response_type=code&client_id=CID&",
            server.base_url
        )));
        let sent = server.requests()[0].json();
        assert_eq!(sent["grantType"], "authorization_code");
        assert_eq!(sent["code"], "AUTH+CODE");
        let redirect = percent_decode(query_value(url, "redirect_uri"));
        assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/oauth/callback"));
        assert_eq!(sent["redirectUri"], redirect.as_str());
        let verifier = sent["codeVerifier"].as_str().expect("verifier");
        assert_eq!(code_challenge(verifier), query_value(url, "code_challenge"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_redirect_without_the_login_state_neither_ends_nor_hijacks_the_login() {
        let server = TestServer::start(vec![Canned::json(
            200,
            r#"{"accessToken":"AT","expiresIn":3600,"tokenType":"Bearer"}"#,
        )]);
        // Any local process can reach the listener: its error or code must not count.
        let (open, visit) = browser_visits(|state| {
            vec![
                "error=access_denied".to_owned(),
                format!("error=access_denied&state={ZERO_UUID}"),
                format!("code=FORGED&state={ZERO_UUID}"),
                format!("code=REAL&state={state}"),
            ]
        });
        let mut prompt = RecordingPrompt { on_url: Some(open), ..RecordingPrompt::default() };
        let grant = authorization_code_flow(
            &oidc(&server),
            "CID",
            &Secret::new("CS"),
            &opts(10_000),
            &mut prompt,
        )
        .await
        .expect("the real redirect still logs in");
        assert_eq!(grant.access_token.expose(), "AT");
        let pages = pages_seen(&visit);
        for (status, page) in &pages[..3] {
            assert!(status.contains("400"), "{status}");
            assert!(page.contains("does not belong to the running login"), "{page}");
        }
        assert!(pages[3].0.contains("200"), "{:?}", pages[3]);
        let sent = server.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].json()["code"], "REAL");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_error_redirect_ends_the_flow() {
        let server = TestServer::start(vec![]);
        let (open, _) =
            browser(|s| format!("error=access_denied&error_description=No+thanks&state={s}"));
        let mut prompt = RecordingPrompt { on_url: Some(open), ..RecordingPrompt::default() };
        let result = authorization_code_flow(
            &oidc(&server),
            "CID",
            &Secret::new("CS"),
            &opts(10_000),
            &mut prompt,
        )
        .await;
        assert!(
            matches!(&result, Err(LoginError::Denied { detail }) if detail == "No thanks"),
            "{result:?}"
        );

        let (open, visit) = browser(|s| format!("error=invalid_scope%3Cscript%3E&state={s}"));
        let mut prompt = RecordingPrompt { on_url: Some(open), ..RecordingPrompt::default() };
        let err = authorization_code_flow(
            &oidc(&server),
            "CID",
            &Secret::new("CS"),
            &opts(10_000),
            &mut prompt,
        )
        .await
        .expect_err("failed");
        assert!(
            matches!(&err, LoginError::Failed { error, .. } if error == "invalid_scopescript"),
            "{err:?}"
        );
        assert!(err.to_string().contains("--use-device-code"), "{err}");
        let (_, page) = page_seen(&visit);
        assert!(page.contains("The login failed: invalid_scopescript."), "{page}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn no_redirect_times_out() {
        let server = TestServer::start(vec![]);
        let mut prompt = RecordingPrompt::default();
        let err = authorization_code_flow(
            &oidc(&server),
            "CID",
            &Secret::new("CS"),
            &opts(200),
            &mut prompt,
        )
        .await
        .expect_err("timeout");
        assert!(matches!(err, LoginError::TimedOut { .. }), "{err:?}");
        assert_eq!(prompt.urls.len(), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_expired_code_is_reported_as_expired() {
        let server = TestServer::start(vec![Canned::json(
            400,
            r#"{"error":"expired_token","error_description":"expired"}"#,
        )]);
        let (open, _) = browser(|s| format!("code=C&state={s}"));
        let mut prompt = RecordingPrompt { on_url: Some(open), ..RecordingPrompt::default() };
        let result = authorization_code_flow(
            &oidc(&server),
            "CID",
            &Secret::new("CS"),
            &opts(10_000),
            &mut prompt,
        )
        .await;
        assert!(matches!(result, Err(LoginError::Expired)), "{result:?}");
    }
}
