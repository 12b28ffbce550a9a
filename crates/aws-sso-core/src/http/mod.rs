//! The HTTP client shared by the OIDC and portal calls: settings (CA bundle, timeouts), the
//! lazily built `reqwest` client, retries with backoff, and how an AWS error answer becomes an
//! [`HttpError`] (the error-code algorithm of docs/aws-contracts.md §1.7).

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::env::{self, Environment};
use crate::secret::Secret;

mod rate_limit;

pub use rate_limit::{DEFAULT_REQUESTS_PER_SECOND, RateLimiter};

/// An AWS service as the HTTP layer needs to know it: for messages and hints, nothing else.
#[derive(Debug, PartialEq, Eq)]
pub struct Api {
    /// How messages name it, e.g. `SSO portal`.
    pub name: &'static str,
    /// The variable that moves its endpoint, named in hints, e.g. `AWS_ENDPOINT_URL_SSO`.
    pub endpoint_variable: &'static str,
    /// What to do when it refuses the caller's bearer token (HTTP 401 or
    /// `UnauthorizedException`), for a service where that means the login is gone; `None` where
    /// such an answer means something else and the caller decides.
    pub unauthorized_hint: Option<&'static str>,
}

impl Api {
    /// One operation of this service.
    pub const fn operation(&'static self, name: &'static str) -> Operation {
        Operation { api: self, name }
    }
}

/// One operation of an [`Api`], e.g. `ListAccounts` of the SSO portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    pub api: &'static Api,
    pub name: &'static str,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq<&str> for Operation {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

/// The header that carries the portal's bearer token (lowercase, with an underscore).
pub const BEARER_TOKEN_HEADER: &str = "x-amz-sso_bearer_token";

/// The header in which AWS services name the error type.
const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// The longest `Retry-After` we honour, so a confused server cannot stall a command for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(20);

/// The longest message from a service we repeat in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// The largest body we read from any endpoint: real answers are a few KB (a page of accounts),
/// and an endless one must not take the memory of a command (docs/ARCHITECTURE.md §7).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The request fields whose values are secrets; a service that echoes one in its error message
/// must not put it on the terminal.
const SECRET_FIELDS: &[&str] =
    &["clientSecret", "refreshToken", "deviceCode", "code", "codeVerifier", "accessToken"];

/// What replaces a secret of the request found in an error answer.
const REDACTED: &str = "[redacted]";

/// The error codes botocore's standard retry mode treats as throttling (bc `retries/standard.py`).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// How the HTTP client connects: trust roots, timeouts, retries, rate.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// A PEM bundle trusted in addition to the system roots (`AWS_CA_BUNDLE`, profile `ca_bundle`).
    pub ca_bundle: Option<PathBuf>,
    /// The whole request, from connecting to the last byte of the answer.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: String,
    /// Attempts per call for the calls that may be retried, when they fail with a 5xx, a
    /// connection error or a timeout (1 = no retry).
    pub max_attempts: u32,
    /// Attempts per call when the service throttles (429 `TooManyRequestsException`): more
    /// patient than `max_attempts`, since waiting is all a throttled call needs.
    pub max_throttled_attempts: u32,
    /// The first backoff delay; it doubles with each attempt, with jitter, up to `max_backoff`.
    pub backoff_base: Duration,
    pub max_backoff: Duration,
    /// Every attempt, retries included, waits here first; shared by every request of one run.
    pub rate_limiter: Option<Arc<RateLimiter>>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            ca_bundle: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            user_agent: format!("aws-sso/{}", env!("CARGO_PKG_VERSION")),
            max_attempts: 3,
            max_throttled_attempts: 8,
            backoff_base: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            rate_limiter: None,
        }
    }
}

impl HttpSettings {
    /// The defaults, with `AWS_CA_BUNDLE` and `AWS_SSO_HTTP_TIMEOUT` (seconds) applied.
    pub fn from_env(env: &Environment) -> Self {
        let mut settings = Self::default();
        if let Some(path) = env.non_empty(env::AWS_CA_BUNDLE) {
            settings.ca_bundle = Some(PathBuf::from(path));
        }
        if let Some(secs) = env.non_empty(env::AWS_SSO_HTTP_TIMEOUT) {
            match secs.trim().parse::<f64>() {
                Ok(secs) if secs.is_finite() && secs > 0.0 => {
                    settings.timeout = Duration::from_secs_f64(secs);
                }
                _ => tracing::debug!(value = secs, "ignoring AWS_SSO_HTTP_TIMEOUT: not seconds"),
            }
        }
        settings
    }

    /// Uses this CA bundle whatever the environment says (a `--ca-bundle` flag).
    pub fn with_ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_bundle = Some(path.into());
        self
    }

    /// Uses the profile's `ca_bundle` unless `AWS_CA_BUNDLE` already chose one: as in botocore,
    /// the environment variable wins over the config file.
    pub fn with_profile_ca_bundle(mut self, path: Option<&str>) -> Self {
        if self.ca_bundle.is_none() {
            self.ca_bundle = path.filter(|p| !p.is_empty()).map(PathBuf::from);
        }
        self
    }

    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    pub fn with_max_throttled_attempts(mut self, attempts: u32) -> Self {
        self.max_throttled_attempts = attempts.max(1);
        self
    }

    /// Makes every attempt wait on `limiter` (`None`: no limit).
    pub fn with_rate_limiter(mut self, limiter: Option<Arc<RateLimiter>>) -> Self {
        self.rate_limiter = limiter;
        self
    }
}

/// Everything that can go wrong with one call to an AWS endpoint.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "Could not reach the {} endpoint at {url} for {operation}: {detail}. Check the network, a \
         proxy (HTTPS_PROXY/NO_PROXY), the CA bundle (AWS_CA_BUNDLE) or the endpoint ({}).",
        operation.api.name,
        operation.api.endpoint_variable
    )]
    Unreachable { operation: Operation, url: String, detail: String },

    #[error(
        "The {} endpoint at {url} did not answer {operation} within {}. Check the network or a \
         proxy, or allow more time with AWS_SSO_HTTP_TIMEOUT (seconds).",
        operation.api.name,
        seconds(after)
    )]
    Timeout { operation: Operation, url: String, after: Duration },

    #[error(transparent)]
    Service(ServiceError),

    #[error(
        "The {} endpoint at {url} gave an answer to {operation} that could not be read: {detail}. \
         Check that {} points to IAM Identity Center.",
        operation.api.name,
        operation.api.endpoint_variable
    )]
    InvalidResponse { operation: Operation, url: String, detail: String },

    #[error(
        "Could not load the CA bundle {}: {detail}. Fix the path in AWS_CA_BUNDLE or in the \
         profile's ca_bundle setting.",
        path.display()
    )]
    CaBundle { path: PathBuf, detail: String },

    #[error("Could not set up the HTTP client: {detail}.")]
    Setup { detail: String },
}

impl HttpError {
    /// The portal refused the token: it expired or was logged out, and only a new login helps.
    ///
    /// OIDC errors (an invalid grant or client on refresh) are not counted: the caller decides
    /// what they mean.
    pub fn is_unauthorized(&self) -> bool {
        match self {
            HttpError::Service(e) => {
                e.operation.api.unauthorized_hint.is_some()
                    && (e.code == "UnauthorizedException" || e.status == 401)
            }
            _ => false,
        }
    }

    /// The sanitized AWS error code of a service answer, e.g. `AuthorizationPendingException`.
    pub fn code(&self) -> Option<&str> {
        match self {
            HttpError::Service(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The service is throttling: HTTP 429 or one of botocore's throttling codes.
    pub fn is_throttling(&self) -> bool {
        match self {
            HttpError::Service(e) => e.status == 429 || THROTTLING_CODES.contains(&e.code.as_str()),
            _ => false,
        }
    }

    /// A failure that may pass on its own (network, timeout, a 5xx, throttling, an unreadable
    /// answer), as opposed to the service refusing the request or a local setup error.
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Unreachable { .. }
            | HttpError::Timeout { .. }
            | HttpError::InvalidResponse { .. } => true,
            HttpError::Service(e) => e.status >= 500 || self.is_throttling(),
            HttpError::CaBundle { .. } | HttpError::Setup { .. } => false,
        }
    }

    /// Whether another attempt of the same call may succeed.
    fn is_retryable(&self) -> bool {
        match self {
            HttpError::Unreachable { .. } | HttpError::Timeout { .. } => true,
            HttpError::Service(e) => {
                matches!(e.status, 429 | 500 | 502 | 503 | 504)
                    || THROTTLING_CODES.contains(&e.code.as_str())
            }
            HttpError::InvalidResponse { .. } | HttpError::CaBundle { .. } => false,
            HttpError::Setup { .. } => false,
        }
    }
}

/// An error answer from the service, modeled or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceError {
    pub operation: Operation,
    pub status: u16,
    /// Sanitized, e.g. `UnauthorizedException`, or the status as text when nothing names it.
    pub code: String,
    /// The body's `message`/`Message`, else its `error_description`; may be empty.
    pub message: String,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed with {} (HTTP {})",
            self.operation.api.name, self.operation, self.code, self.status
        )?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(hint) = self.hint() {
            write!(f, ". {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

impl ServiceError {
    fn hint(&self) -> Option<&'static str> {
        if let Some(hint) = self.operation.api.unauthorized_hint
            && (self.code == "UnauthorizedException" || self.status == 401)
        {
            return Some(hint);
        }
        if self.status == 429 || THROTTLING_CODES.contains(&self.code.as_str()) {
            return Some("The service is throttling requests; wait a moment and try again");
        }
        if self.status >= 500 {
            return Some("The service had a problem; try again in a moment");
        }
        None
    }
}

fn seconds(d: &Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 { format!("{secs:.0} s") } else { format!("{secs:.1} s") }
}

/// The AWS error code of an error answer, as botocore finds it (docs/aws-contracts.md §1.7): the
/// `x-amzn-ErrorType` header, else body `code`, `Code`, `__type`, else the OAuth `error` field
/// mapped to its exception name, else the status; then cut at the first `:` and keep what
/// follows the last `#`.
pub fn error_code(header: Option<&str>, body: &[u8], status: u16) -> String {
    let json: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|map| map.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let raw = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .or_else(|| field("code").map(str::to_owned))
        .or_else(|| field("Code").map(str::to_owned))
        .or_else(|| field("__type").map(str::to_owned))
        .or_else(|| field("error").and_then(oauth_error_code))
        .unwrap_or_else(|| status.to_string());
    sanitize_error_code(&raw).to_owned()
}

fn sanitize_error_code(raw: &str) -> &str {
    let before_colon = raw.split(':').next().unwrap_or(raw);
    before_colon.rsplit('#').next().unwrap_or(before_colon)
}

/// `authorization_pending` → `AuthorizationPendingException`, for the OAuth errors of RFC 6749
/// and RFC 8628 that the OIDC model names as exceptions.
fn oauth_error_code(error: &str) -> Option<String> {
    if error == "server_error" {
        return Some("InternalServerException".to_owned());
    }
    if !error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    let mut code = String::with_capacity(error.len() + 9);
    for word in error.split('_').filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            code.push(first.to_ascii_uppercase());
            code.push_str(chars.as_str());
        }
    }
    if code.is_empty() {
        return None;
    }
    code.push_str("Exception");
    Some(code)
}

/// The human message of an error body: `message`/`Message`, else `error_description`, with
/// every one of `secrets` replaced before it is cut, so not even a prefix of one shows.
fn error_message(body: &[u8], secrets: &[&str]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
    else {
        return String::new();
    };
    let text = ["message", "Message", "error_description"]
        .iter()
        .filter_map(|k| json.get(*k).and_then(serde_json::Value::as_str))
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
    let clean: String = text.trim().chars().filter(|c| !c.is_control()).collect();
    truncate_chars(&redact(&clean, secrets), MAX_MESSAGE_CHARS)
}

/// The code and message of an XML error answer (`<ErrorResponse><Error><Code>` and
/// `<Message>`), as the query protocol sends them; `None` for any other body.
fn xml_error(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.trim_start().starts_with('<') {
        return None;
    }
    let error = xml_element(text, "Error")?;
    let code = xml_element(error, "Code").map(xml_unescape).filter(|c| !c.trim().is_empty())?;
    let message = xml_element(error, "Message").map(xml_unescape).unwrap_or_default();
    Some((code.trim().to_owned(), message))
}

/// The text between `<tag>` and `</tag>` (the first such element), unparsed. Enough for the
/// flat answers of the query protocol, which never repeat a tag inside itself.
pub(crate) fn xml_element<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    Some(&text[start..end])
}

/// The five predefined XML entities and numeric references, decoded.
pub(crate) fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` with every occurrence of each secret replaced by [`REDACTED`].
fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    // Short values (a test's `RT`, an empty field) would redact ordinary words, and are no secret.
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        out = out.replace(secret, REDACTED);
    }
    out
}

pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Describes a JSON decoding failure without quoting the body, which may hold secrets.
pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("missing field") {
        return text;
    }
    let what = match e.classify() {
        serde_json::error::Category::Io => "the body could not be read",
        serde_json::error::Category::Syntax => "the body is not JSON",
        serde_json::error::Category::Eof => "the body is cut short",
        serde_json::error::Category::Data => "a field has an unexpected type or value",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

/// The HTTP method of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

/// One call to an AWS endpoint.
pub(crate) struct Request<'a> {
    pub operation: Operation,
    pub method: Method,
    pub url: String,
    /// Sent in `x-amz-sso_bearer_token`.
    pub bearer: Option<&'a Secret>,
    /// A JSON body; a POST without one is sent with `Content-Length: 0`.
    pub json: Option<Vec<u8>>,
    /// A form body (`application/x-www-form-urlencoded`), as the query protocol (STS) sends.
    pub form: Option<Vec<u8>>,
    /// Headers added as they are: a signature's, for STS.
    pub headers: Vec<(String, String)>,
    /// Whether connection errors, 5xx and throttling are retried.
    pub retry: bool,
}

impl Request<'_> {
    /// The secrets this request carries: the bearer token and the values of [`SECRET_FIELDS`]
    /// in its JSON body.
    fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> =
            self.bearer.map(|token| token.expose().to_owned()).into_iter().collect();
        secrets.extend(
            self.headers
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("x-amz-security-token"))
                .map(|(_, value)| value.clone()),
        );
        let fields = self.json.as_deref().and_then(|json| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(json).ok()
        });
        for name in SECRET_FIELDS {
            if let Some(value) =
                fields.as_ref().and_then(|f| f.get(*name)).and_then(serde_json::Value::as_str)
            {
                secrets.push(value.to_owned());
            }
        }
        secrets
    }
}

/// The HTTP client. The `reqwest` client inside is built on the first request, because
/// building it loads the TLS roots (milliseconds the shell hook cannot spend).
///
/// A clone shares the counters of the original.
#[derive(Clone, Debug, Default)]
pub struct HttpClient {
    settings: HttpSettings,
    client: OnceLock<reqwest::Client>,
    counters: Arc<Counters>,
}

/// What a client has sent so far, for a listing's summary and the benchmark.
#[derive(Debug, Default)]
struct Counters {
    attempts: AtomicUsize,
    throttled: AtomicUsize,
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Self {
        Self { settings, client: OnceLock::new(), counters: Arc::default() }
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The same client (sharing its connections once built) whose attempts wait on `limiter`,
    /// with counters of its own that start at zero.
    pub fn with_rate_limiter(&self, limiter: Option<Arc<RateLimiter>>) -> HttpClient {
        HttpClient {
            settings: self.settings.clone().with_rate_limiter(limiter),
            client: self.client.clone(),
            counters: Arc::default(),
        }
    }

    /// Requests sent so far, retries included.
    pub fn attempts(&self) -> usize {
        self.counters.attempts.load(Ordering::Relaxed)
    }

    /// Throttling answers (429) met so far.
    pub fn throttled(&self) -> usize {
        self.counters.throttled.load(Ordering::Relaxed)
    }

    /// The underlying client with our TLS roots, proxies and timeouts, built on first use.
    pub fn client(&self) -> Result<&reqwest::Client, HttpError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let built = self.build()?;
        // Another task may have won the race; either client is equivalent.
        Ok(self.client.get_or_init(|| built))
    }

    /// A client with the same TLS roots, proxies and timeouts that never follows a redirect,
    /// for finding where a start URL leads. Built anew each time: it is needed once per login.
    pub fn client_without_redirects(&self) -> Result<reqwest::Client, HttpError> {
        self.build_with(reqwest::redirect::Policy::none())
    }

    fn build(&self) -> Result<reqwest::Client, HttpError> {
        self.build_with(reqwest::redirect::Policy::default())
    }

    fn build_with(
        &self,
        redirects: reqwest::redirect::Policy,
    ) -> Result<reqwest::Client, HttpError> {
        // Fails only when a provider is already installed, which is what we want anyway.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(self.settings.user_agent.clone())
            .timeout(self.settings.timeout)
            .connect_timeout(self.settings.connect_timeout)
            .redirect(redirects);
        if let Some(path) = &self.settings.ca_bundle {
            let pem = std::fs::read(path)
                .map_err(|e| HttpError::CaBundle { path: path.clone(), detail: e.to_string() })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| HttpError::CaBundle { path: path.clone(), detail: innermost(&e) })?;
            if certs.is_empty() {
                return Err(HttpError::CaBundle {
                    path: path.clone(),
                    detail: "it holds no PEM certificate".to_owned(),
                });
            }
            // docs/ARCHITECTURE.md §7: the bundle is trusted in addition to the system store, so a corporate
            // root can be added without losing the public ones.
            builder = builder.tls_certs_merge(certs);
        }
        builder.build().map_err(|e| match &self.settings.ca_bundle {
            Some(path) => HttpError::CaBundle { path: path.clone(), detail: innermost(&e) },
            None => HttpError::Setup { detail: innermost(&e) },
        })
    }

    /// Sends the call, retrying when it may, and gives the body of the 2xx answer.
    ///
    /// Every attempt waits on the rate limiter first. A throttled call is retried up to
    /// `max_throttled_attempts` times with full jitter; a 5xx, connection error or timeout up to
    /// `max_attempts` times; either honours `Retry-After`. A 401 is never retried.
    pub(crate) async fn send(&self, req: &Request<'_>) -> Result<Vec<u8>, HttpError> {
        let mut attempt = 1;
        let mut throttled = 0;
        let mut failed = 0;
        loop {
            if let Some(limiter) = &self.settings.rate_limiter {
                limiter.wait().await;
            }
            self.counters.attempts.fetch_add(1, Ordering::Relaxed);
            let (result, retry_after) = self.attempt(req, attempt).await;
            let limiter = self.settings.rate_limiter.as_deref();
            let err = match result {
                Ok(body) => {
                    limiter.inspect(|l| l.succeeded());
                    return Ok(body);
                }
                Err(e) => e,
            };
            let backoff = if err.is_throttling() {
                limiter.inspect(|l| l.throttled());
                self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                throttled += 1;
                if throttled >= self.settings.max_throttled_attempts {
                    return Err(err);
                }
                self.full_jitter_backoff(throttled)
            } else {
                failed += 1;
                if failed >= self.settings.max_attempts {
                    return Err(err);
                }
                self.backoff(failed)
            };
            if !req.retry || !err.is_retryable() {
                return Err(err);
            }
            let delay = retry_after.map(|d| d.min(MAX_RETRY_AFTER)).unwrap_or(backoff);
            tracing::debug!(
                operation = req.operation.name,
                attempt,
                delay_ms = delay.as_millis() as u64,
                code = err.code().unwrap_or("connection"),
                "retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Sends the call and decodes the JSON of the 2xx answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
    ) -> Result<T, HttpError> {
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| HttpError::InvalidResponse {
            operation: req.operation,
            url: req.url.clone(),
            detail: describe_json_error(&e),
        })
    }

    /// One attempt, and the server's `Retry-After` when it sent one.
    async fn attempt(
        &self,
        req: &Request<'_>,
        attempt: u32,
    ) -> (Result<Vec<u8>, HttpError>, Option<Duration>) {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return (Err(e), None),
        };
        let mut builder = match req.method {
            Method::Get => client.get(&req.url),
            Method::Post => client.post(&req.url),
        };
        if let Some(token) = req.bearer {
            builder = builder.header(BEARER_TOKEN_HEADER, token.expose());
        }
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        match (&req.json, req.method) {
            (Some(json), _) => {
                builder = builder.header("content-type", "application/json").body(json.clone());
            }
            (None, _) if req.form.is_some() => {
                let form = req.form.clone().unwrap_or_default();
                builder = builder
                    .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
                    .body(form);
            }
            // hyper leaves the length out of an empty POST; botocore sends it, so do we.
            (None, Method::Post) => builder = builder.header("content-length", "0"),
            (None, Method::Get) => {}
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(operation = req.operation.name, attempt, "request failed");
                return (Err(self.transport_error(req, &e)), None);
            }
        };
        let status = response.status().as_u16();
        tracing::debug!(operation = req.operation.name, status, attempt, "answer");
        let header = |name: &str| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let error_type = header(ERROR_TYPE_HEADER);
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let body = match read_body(response, MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return (Err(self.transport_error(req, &e)), None),
            Err(BodyError::TooLarge) => {
                let detail = format!("the answer is larger than {} MiB", MAX_BODY_BYTES >> 20);
                let err = HttpError::InvalidResponse {
                    operation: req.operation,
                    url: req.url.clone(),
                    detail,
                };
                return (Err(err), None);
            }
        };
        if (200..300).contains(&status) {
            return (Ok(body), None);
        }
        let owned = req.secrets();
        let secrets: Vec<&str> = owned.iter().map(String::as_str).collect();
        let (code, message) = match xml_error(&body) {
            // The query protocol (STS) answers errors in XML: `<Error><Code>…<Message>…`.
            Some((code, message)) if error_type.is_none() => {
                let clean: String = message.trim().chars().filter(|c| !c.is_control()).collect();
                (code, truncate_chars(&redact(&clean, &secrets), MAX_MESSAGE_CHARS))
            }
            _ => (error_code(error_type.as_deref(), &body, status), error_message(&body, &secrets)),
        };
        let err = ServiceError {
            operation: req.operation,
            status,
            code: redact(sanitize_error_code(&code), &secrets),
            message,
        };
        (Err(HttpError::Service(err)), retry_after)
    }

    fn transport_error(&self, req: &Request<'_>, e: &reqwest::Error) -> HttpError {
        if e.is_timeout() {
            let after =
                if e.is_connect() { self.settings.connect_timeout } else { self.settings.timeout };
            return HttpError::Timeout { operation: req.operation, url: req.url.clone(), after };
        }
        if e.is_decode() || e.is_body() {
            return HttpError::InvalidResponse {
                operation: req.operation,
                url: req.url.clone(),
                detail: innermost(e),
            };
        }
        HttpError::Unreachable {
            operation: req.operation,
            url: req.url.clone(),
            detail: innermost(e),
        }
    }

    /// Exponential backoff from `backoff_base`, capped, with jitter between half and the whole.
    fn backoff(&self, attempt: u32) -> Duration {
        self.exponential(attempt).mul_f64(0.5 + 0.5 * random_fraction())
    }

    /// Exponential backoff with full jitter (anywhere from zero to the whole), so that many
    /// throttled requests do not come back together.
    fn full_jitter_backoff(&self, attempt: u32) -> Duration {
        self.exponential(attempt).mul_f64(random_fraction())
    }

    fn exponential(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.settings.backoff_base.saturating_mul(factor).min(self.settings.max_backoff)
    }
}

/// Why a body could not be read whole.
pub(crate) enum BodyError {
    Transport(reqwest::Error),
    /// Longer than the bound: the rest was not read.
    TooLarge,
}

/// Reads a body chunk by chunk, and stops as soon as it passes `max` bytes, so an endless or huge
/// answer costs at most `max` of memory. Every body read from the network goes through here.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|length| length > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` as delay seconds. The HTTP-date form is not used by AWS and is ignored.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A number in [0, 1); jitter only, so a failing random source just removes the jitter.
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

/// The most specific cause of an error, e.g. "Connection refused (os error 111)" rather than
/// reqwest's "error sending request for url (...)".
pub(crate) fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// Percent-encodes a query value or path segment as botocore's `percent_encode` does (RFC 3986,
/// only `-._~` and alphanumerics left as they are). Hand-written: the whole rule fits in the
/// loop, where a crate would need its own character set spelled out to match botocore.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base` without a trailing slash, followed by `path` and the encoded query pairs.
pub(crate) fn build_url(base: &str, path: &str, query: &[(&str, &str)]) -> String {
    let mut url = format!("{}{}", base.trim_end_matches('/'), path);
    for (i, (name, value)) in query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(&percent_encode(value));
    }
    url
}

/// A loopback HTTP server for tests: it answers scripted responses in order, one connection
/// each, and records what it was sent.
#[cfg(test)]
pub(crate) mod test_server {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    pub(crate) struct Canned {
        pub status: u16,
        pub headers: Vec<(&'static str, String)>,
        pub body: String,
        /// How long a routed server waits before answering.
        pub delay: Option<std::time::Duration>,
    }

    impl Canned {
        pub fn json(status: u16, body: &str) -> Self {
            Self { status, headers: Vec::new(), body: body.to_owned(), delay: None }
        }

        pub fn after(mut self, delay: std::time::Duration) -> Self {
            self.delay = Some(delay);
            self
        }

        pub fn header(mut self, name: &'static str, value: &str) -> Self {
            self.headers.push((name, value.to_owned()));
            self
        }
    }

    #[derive(Clone, Debug)]
    pub(crate) struct Recorded {
        pub method: String,
        pub target: String,
        /// Names in lowercase, in the order sent.
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    impl Recorded {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }

        pub fn json(&self) -> serde_json::Value {
            serde_json::from_str(&self.body).expect("request body is JSON")
        }
    }

    pub(crate) struct TestServer {
        pub base_url: String,
        requests: Arc<Mutex<Vec<Recorded>>>,
    }

    impl TestServer {
        pub fn start(responses: Vec<Canned>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let base_url = format!("http://{}", listener.local_addr().expect("addr"));
            let requests = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&requests);
            std::thread::spawn(move || {
                for canned in responses {
                    let Ok((mut stream, _)) = listener.accept() else { return };
                    let recorded = read_request(&mut stream);
                    seen.lock().expect("lock").push(recorded);
                    write_answer(&mut stream, &canned);
                }
            });
            Self { base_url, requests }
        }

        /// A server that answers every request with `answer(request)`, each connection on a
        /// thread of its own, for as long as the test runs.
        pub fn route(answer: impl Fn(&Recorded) -> Canned + Send + Sync + 'static) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let base_url = format!("http://{}", listener.local_addr().expect("addr"));
            let requests = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&requests);
            let answer = Arc::new(answer);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { return };
                    let seen = Arc::clone(&seen);
                    let answer = Arc::clone(&answer);
                    std::thread::spawn(move || {
                        let recorded = read_request(&mut stream);
                        let canned = answer(&recorded);
                        seen.lock().expect("lock").push(recorded);
                        if let Some(delay) = canned.delay {
                            std::thread::sleep(delay);
                        }
                        write_answer(&mut stream, &canned);
                    });
                }
            });
            Self { base_url, requests }
        }

        pub fn requests(&self) -> Vec<Recorded> {
            self.requests.lock().expect("lock").clone()
        }
    }

    fn write_answer(stream: &mut std::net::TcpStream, canned: &Canned) {
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n",
            canned.status,
            canned.body.len()
        );
        for (name, value) in &canned.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(canned.body.as_bytes());
        let _ = stream.flush();
    }

    fn read_request(stream: &mut std::net::TcpStream) -> Recorded {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = stream.read(&mut chunk).expect("read");
            assert!(n > 0, "connection closed before the request head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let target = first.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).expect("read body");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Recorded { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() }
    }

    /// A port on which nothing listens.
    pub(crate) fn closed_port_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        format!("http://{addr}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::test_server::{Canned, TestServer, closed_port_url};
    use super::*;

    fn fast_settings() -> HttpSettings {
        HttpSettings {
            backoff_base: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            ..HttpSettings::default()
        }
    }

    fn get(operation: &'static str, url: String) -> Request<'static> {
        Request {
            operation: op(operation),
            method: Method::Get,
            url,
            bearer: None,
            json: None,
            form: None,
            headers: Vec::new(),
            retry: true,
        }
    }

    /// A service whose refused bearer token means the login is gone, as the portal's does.
    static BEARER: Api = Api {
        name: "SSO portal",
        endpoint_variable: "AWS_ENDPOINT_URL_SSO",
        unauthorized_hint: Some("Log in again"),
    };

    /// A service whose 401s mean something its caller decides, as the OIDC service's do.
    static OTHER: Api = Api {
        name: "SSO OIDC",
        endpoint_variable: "AWS_ENDPOINT_URL_SSO_OIDC",
        unauthorized_hint: None,
    };

    /// The operation of that name, of the kind of service it belongs to.
    fn op(name: &'static str) -> Operation {
        match name {
            "ListAccounts" | "ListAccountRoles" | "GetRoleCredentials" | "Logout" => {
                BEARER.operation(name)
            }
            _ => OTHER.operation(name),
        }
    }

    #[test]
    fn error_code_prefers_the_header_and_sanitizes_it() {
        let header = "AuthorizationPendingException:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/";
        let body = br#"{"error":"authorization_pending","error_description":"pending"}"#;
        assert_eq!(error_code(Some(header), body, 400), "AuthorizationPendingException");
        assert_eq!(
            error_code(Some("aws.protocoltests#FooError:http://x/"), b"{}", 400),
            "FooError"
        );
        assert_eq!(
            error_code(Some("UnauthorizedException"), br#"{"code":"Other"}"#, 401),
            "UnauthorizedException"
        );
    }

    #[test]
    fn error_code_falls_back_through_the_body_fields_then_the_status() {
        assert_eq!(error_code(None, br#"{"code":"A","Code":"B","__type":"C"}"#, 400), "A");
        assert_eq!(error_code(None, br#"{"Code":"B","__type":"C"}"#, 400), "B");
        assert_eq!(
            error_code(None, br#"{"__type":"com.amazonaws.sso#TooManyRequestsException"}"#, 429),
            "TooManyRequestsException"
        );
        assert_eq!(error_code(None, br#"{"message":"Session token not found"}"#, 401), "401");
        assert_eq!(error_code(None, b"<html>bad gateway</html>", 502), "502");
        assert_eq!(error_code(None, b"", 503), "503");
    }

    #[test]
    fn error_code_maps_the_oauth_error_field() {
        let cases = [
            ("authorization_pending", "AuthorizationPendingException"),
            ("slow_down", "SlowDownException"),
            ("expired_token", "ExpiredTokenException"),
            ("access_denied", "AccessDeniedException"),
            ("invalid_grant", "InvalidGrantException"),
            ("invalid_client", "InvalidClientException"),
            ("unauthorized_client", "UnauthorizedClientException"),
            ("invalid_request", "InvalidRequestException"),
            ("invalid_scope", "InvalidScopeException"),
            ("unsupported_grant_type", "UnsupportedGrantTypeException"),
            ("server_error", "InternalServerException"),
        ];
        for (error, code) in cases {
            let body = format!(r#"{{"error":"{error}","error_description":"x"}}"#);
            assert_eq!(error_code(None, body.as_bytes(), 400), code, "{error}");
        }
        // `__type` is more specific than the OAuth field.
        assert_eq!(
            error_code(
                None,
                br#"{"__type":"SlowDownException","error":"authorization_pending"}"#,
                400
            ),
            "SlowDownException"
        );
        // Not an OAuth error name: the status is all we know.
        assert_eq!(error_code(None, br#"{"error":"Weird Thing!"}"#, 400), "400");
    }

    #[test]
    fn error_message_reads_message_then_error_description() {
        assert_eq!(error_message(br#"{"message":"m","error_description":"d"}"#, &[]), "m");
        assert_eq!(error_message(br#"{"Message":"M"}"#, &[]), "M");
        assert_eq!(
            error_message(br#"{"error":"x","error_description":"pending"}"#, &[]),
            "pending"
        );
        assert_eq!(error_message(b"not json", &[]), "");
        let long = format!(r#"{{"message":"{}"}}"#, "a".repeat(1000));
        assert!(error_message(long.as_bytes(), &[]).chars().count() <= MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn settings_read_the_environment() {
        let env = Environment::from_pairs([
            (env::AWS_CA_BUNDLE, "/etc/corp.pem"),
            (env::AWS_SSO_HTTP_TIMEOUT, "2.5"),
        ]);
        let s = HttpSettings::from_env(&env);
        assert_eq!(s.ca_bundle, Some(PathBuf::from("/etc/corp.pem")));
        assert_eq!(s.timeout, Duration::from_millis(2500));
        // The environment wins over the profile, an explicit choice over both.
        let s = s.with_profile_ca_bundle(Some("/profile.pem"));
        assert_eq!(s.ca_bundle, Some(PathBuf::from("/etc/corp.pem")));
        let s = s.with_ca_bundle("/flag.pem");
        assert_eq!(s.ca_bundle, Some(PathBuf::from("/flag.pem")));

        let s =
            HttpSettings::from_env(&Environment::from_pairs([(env::AWS_SSO_HTTP_TIMEOUT, "soon")]))
                .with_profile_ca_bundle(Some("/profile.pem"));
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert_eq!(s.ca_bundle, Some(PathBuf::from("/profile.pem")));
    }

    #[test]
    fn urls_are_percent_encoded_like_botocore() {
        assert_eq!(percent_encode("NEXT/+= ~._-ä"), "NEXT%2F%2B%3D%20~._-%C3%A4");
        assert_eq!(
            build_url(
                "http://h/",
                "/assignment/accounts",
                &[("max_result", "100"), ("next_token", "a/b")]
            ),
            "http://h/assignment/accounts?max_result=100&next_token=a%2Fb"
        );
        assert_eq!(build_url("http://h", "/logout", &[]), "http://h/logout");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn retries_a_503_then_succeeds() {
        let server = TestServer::start(vec![
            Canned::json(503, r#"{"message":"busy"}"#),
            Canned::json(200, r#"{"ok":true}"#),
        ]);
        let http = HttpClient::new(fast_settings());
        let body = http
            .send(&get("ListAccounts", format!("{}/assignment/accounts", server.base_url)))
            .await
            .expect("second attempt succeeds");
        assert_eq!(body, br#"{"ok":true}"#);
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn gives_up_after_max_attempts() {
        let server = TestServer::start(vec![
            Canned::json(500, "{}"),
            Canned::json(502, "{}"),
            Canned::json(504, r#"{"message":"still down"}"#),
            Canned::json(200, "{}"),
        ]);
        let http = HttpClient::new(fast_settings());
        let err = http
            .send(&get("ListAccounts", format!("{}/assignment/accounts", server.base_url)))
            .await
            .expect_err("three failures");
        assert_eq!(err.code(), Some("504"));
        assert_eq!(server.requests().len(), 3);
        assert!(err.to_string().contains("still down"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn honours_retry_after_on_429() {
        let server = TestServer::start(vec![
            Canned::json(429, r#"{"message":"slow down"}"#)
                .header("x-amzn-ErrorType", "TooManyRequestsException")
                .header("Retry-After", "1"),
            Canned::json(200, "{}"),
        ]);
        let http = HttpClient::new(fast_settings());
        let start = Instant::now();
        http.send(&get("ListAccountRoles", format!("{}/assignment/roles", server.base_url)))
            .await
            .expect("retried");
        assert!(start.elapsed() >= Duration::from_secs(1), "waited {:?}", start.elapsed());
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn does_not_retry_a_client_error_or_a_call_marked_final() {
        let server = TestServer::start(vec![
            Canned::json(400, r#"{"error":"authorization_pending"}"#),
            Canned::json(503, "{}"),
            Canned::json(200, "{}"),
        ]);
        let http = HttpClient::new(fast_settings());
        let err = http
            .send(&get("CreateToken", format!("{}/token", server.base_url)))
            .await
            .expect_err("400");
        assert_eq!(err.code(), Some("AuthorizationPendingException"));
        let mut req = get("CreateToken", format!("{}/token", server.base_url));
        req.retry = false;
        let err = http.send(&req).await.expect_err("503, not retried");
        assert_eq!(err.code(), Some("503"));
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_closed_port_is_unreachable_quickly() {
        let url = format!("{}/token", closed_port_url());
        let http = HttpClient::new(fast_settings());
        let start = Instant::now();
        let err = http.send(&get("CreateToken", url.clone())).await.expect_err("refused");
        assert!(start.elapsed() < Duration::from_secs(3), "took {:?}", start.elapsed());
        match &err {
            HttpError::Unreachable { operation, url: u, .. } => {
                assert_eq!(*operation, "CreateToken");
                assert_eq!(u, &url);
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("SSO OIDC endpoint"), "{text}");
        assert!(text.contains("AWS_ENDPOINT_URL_SSO_OIDC"), "{text}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_silent_server_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/token", listener.local_addr().expect("addr"));
        let settings = HttpSettings { timeout: Duration::from_millis(300), ..fast_settings() }
            .with_max_attempts(1);
        let err =
            HttpClient::new(settings).send(&get("CreateToken", url)).await.expect_err("no answer");
        assert!(
            matches!(err, HttpError::Timeout { after, .. } if after == Duration::from_millis(300)),
            "{err:?}"
        );
        drop(listener);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_missing_ca_bundle_is_reported_with_its_path() {
        let http = HttpClient::new(HttpSettings::default().with_ca_bundle("/nonexistent/ca.pem"));
        let err = http
            .send(&get("ListAccounts", "https://127.0.0.1:9/x".to_owned()))
            .await
            .expect_err("no bundle");
        assert!(matches!(err, HttpError::CaBundle { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = HttpClient::new(HttpSettings::default().with_ca_bundle(&path))
            .client()
            .expect_err("no certificate");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_undecodable_answer_does_not_quote_the_body() {
        let server = TestServer::start(vec![Canned::json(
            200,
            r#"{"accessToken": 98765, "secret": "hunter2"}"#,
        )]);
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Shape {
            #[serde(rename = "accessToken")]
            access_token: String,
        }
        let err = HttpClient::new(fast_settings())
            .send_json::<Shape>(&get("CreateToken", format!("{}/token", server.base_url)))
            .await
            .expect_err("wrong type");
        assert!(matches!(err, HttpError::InvalidResponse { .. }), "{err:?}");
        assert!(!err.to_string().contains("hunter2"));
        assert!(!err.to_string().contains("98765"), "{err}");
    }

    /// A server that answers every connection with a chunked body that never ends, and gives
    /// the bytes it managed to send before the client hung up.
    fn endless_server(status: u16) -> (String, Arc<AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/token", listener.local_addr().expect("addr"));
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&sent);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                     Transfer-Encoding: chunked\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
                while stream.write_all(chunk.as_bytes()).is_ok() {
                    counter.fetch_add(0x10000, Ordering::Relaxed);
                }
            }
        });
        (url, sent)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_endless_body_is_cut_at_the_bound_with_an_error_naming_the_endpoint() {
        for status in [200, 500] {
            let (url, sent) = endless_server(status);
            let err = HttpClient::new(fast_settings().with_max_attempts(1))
                .send(&get("CreateToken", url.clone()))
                .await
                .expect_err("too large");
            let text = err.to_string();
            assert!(matches!(err, HttpError::InvalidResponse { .. }), "{err:?}");
            assert!(text.contains("larger than 4 MiB"), "{text}");
            assert!(text.contains(&url), "{text}");
            // The client stopped reading: what was sent is the bound plus the socket buffers.
            let sent = sent.load(Ordering::Relaxed);
            assert!(sent < 4 * MAX_BODY_BYTES, "read on to {sent} bytes");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_declared_huge_body_is_refused_before_it_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/token", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let Ok((mut stream, _)) = listener.accept() else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n{");
            std::thread::sleep(Duration::from_secs(5));
        });
        let start = Instant::now();
        let err = HttpClient::new(fast_settings())
            .send(&get("CreateToken", url))
            .await
            .expect_err("too large");
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3), "waited {:?}", start.elapsed());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_error_message_that_echoes_a_secret_of_the_request_does_not_repeat_it() {
        const BEARER_TOKEN: &str = "aoaAAAAAbearer-token-0123456789";
        const REFRESH: &str = "aorAAAAArefresh-token-0123456789";
        const CLIENT_SECRET: &str = "eyJraWQiOiJjbGllbnQtc2VjcmV0In0";
        // The last secret straddles the point where the message is cut.
        let message = format!(
            "bad token {BEARER_TOKEN}, refresh {REFRESH} for client {CLIENT_SECRET}; {}{REFRESH}",
            "x".repeat(MAX_MESSAGE_CHARS - 10)
        );
        let body = serde_json::json!({ "message": message }).to_string();
        let server = TestServer::start(vec![
            Canned::json(401, &body).header("x-amzn-ErrorType", &format!("Bad{BEARER_TOKEN}")),
            Canned::json(400, &body),
        ]);
        let bearer = Secret::new(BEARER_TOKEN.to_owned());
        let mut portal = get("ListAccounts", format!("{}/assignment/accounts", server.base_url));
        portal.bearer = Some(&bearer);
        let refresh = serde_json::json!({
            "grantType": "refresh_token",
            "clientId": "CID",
            "clientSecret": CLIENT_SECRET,
            "refreshToken": REFRESH,
        });
        let mut oidc = get("CreateToken", format!("{}/token", server.base_url));
        oidc.method = Method::Post;
        oidc.json = Some(serde_json::to_vec(&refresh).expect("json"));
        let http = HttpClient::new(fast_settings());
        for (req, secrets) in [(portal, vec![BEARER_TOKEN]), (oidc, vec![REFRESH, CLIENT_SECRET])] {
            let err = http.send(&req).await.expect_err("refused");
            let text = format!("{err} {err:?}");
            for secret in secrets {
                assert!(!text.contains(secret), "{secret} in {text}");
                assert!(!text.contains(&secret[..12]), "a prefix of {secret} in {text}");
            }
            assert!(text.contains("[redacted]"), "{text}");
        }
    }

    #[test]
    fn only_portal_401s_are_unauthorized() {
        let service = |operation, status, code: &str| {
            HttpError::Service(ServiceError {
                operation: op(operation),
                status,
                code: code.to_owned(),
                message: String::new(),
            })
        };
        let portal = service("GetRoleCredentials", 401, "UnauthorizedException");
        assert!(portal.is_unauthorized());
        assert!(portal.to_string().contains("Log in again"), "{portal}");
        assert!(service("ListAccounts", 401, "401").is_unauthorized());
        assert!(!service("CreateToken", 401, "InvalidClientException").is_unauthorized());
        assert!(!service("CreateToken", 400, "InvalidGrantException").is_unauthorized());
        assert!(!service("ListAccounts", 429, "TooManyRequestsException").is_unauthorized());
    }
}
