//! Routing and the HTTP server: which path is which operation, the request log and its test
//! hooks under `/_emulator/`, and the hyper glue.

use std::convert::Infallible;
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::signal::unix::Signal;

use crate::faults::{Faults, RefreshFault, StsFault};
use crate::state::{REFRESH_TOKEN_GRANT, State, fill_random};
use crate::wire::{ApiRequest, ApiResponse, PortalError, PortalErrorKind, parse_query};
use crate::{federation, oidc, portal, sts};

/// Request bodies are small JSON documents; anything bigger is a mistake.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The operations the emulator answers, named as in the AWS models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    RegisterClient,
    StartDeviceAuthorization,
    CreateToken,
    Authorize,
    DeviceVerification,
    ListAccounts,
    ListAccountRoles,
    GetRoleCredentials,
    Logout,
    Federation,
    StartPage,
    AssumeRole,
    GetCallerIdentity,
    /// A request to STS (`/`) with an action it does not have, or none.
    StsUnknown,
    Unknown,
}

impl Operation {
    pub fn route(method: &str, path: &str) -> Operation {
        match (method, path) {
            ("POST", "/client/register") => Operation::RegisterClient,
            ("POST", "/device_authorization") => Operation::StartDeviceAuthorization,
            ("POST", "/token") => Operation::CreateToken,
            ("GET", "/authorize") => Operation::Authorize,
            ("GET", "/device") => Operation::DeviceVerification,
            ("GET", "/assignment/accounts") => Operation::ListAccounts,
            ("GET", "/assignment/roles") => Operation::ListAccountRoles,
            ("GET", "/federation/credentials") => Operation::GetRoleCredentials,
            ("POST", "/logout") => Operation::Logout,
            ("GET", "/federation") => Operation::Federation,
            ("GET" | "HEAD", "/start") => Operation::StartPage,
            _ => Operation::Unknown,
        }
    }

    /// The operation of `request`: STS is served at `/` and names its operation in the `Action`
    /// parameter; every other service by its path.
    pub fn of(request: &ApiRequest) -> Operation {
        match (request.method.as_str(), request.path.as_str()) {
            // An operation exists only in the API version that has it: 2011-06-15.
            ("GET" | "POST", "/") if !sts::known_version(request) => Operation::StsUnknown,
            ("GET" | "POST", "/") => match sts::action(request).as_deref() {
                Some("AssumeRole") => Operation::AssumeRole,
                Some("GetCallerIdentity") => Operation::GetCallerIdentity,
                _ => Operation::StsUnknown,
            },
            (method, path) => Operation::route(method, path),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Operation::RegisterClient => "RegisterClient",
            Operation::StartDeviceAuthorization => "StartDeviceAuthorization",
            Operation::CreateToken => "CreateToken",
            Operation::Authorize => "Authorize",
            Operation::DeviceVerification => "DeviceVerification",
            Operation::ListAccounts => "ListAccounts",
            Operation::ListAccountRoles => "ListAccountRoles",
            Operation::GetRoleCredentials => "GetRoleCredentials",
            Operation::Logout => "Logout",
            Operation::Federation => "Federation",
            Operation::StartPage => "StartPage",
            Operation::AssumeRole => "AssumeRole",
            Operation::GetCallerIdentity => "GetCallerIdentity",
            Operation::StsUnknown | Operation::Unknown => "Unknown",
        }
    }

    fn is_sts(self) -> bool {
        matches!(self, Operation::AssumeRole | Operation::GetCallerIdentity | Operation::StsUnknown)
    }

    fn is_portal(self) -> bool {
        matches!(
            self,
            Operation::ListAccounts
                | Operation::ListAccountRoles
                | Operation::GetRoleCredentials
                | Operation::Logout
        )
    }
}

/// One line of `GET /_emulator/requests`. Never holds a query string, header or body, so never a
/// secret.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub operation: &'static str,
    pub status: u16,
}

/// `GET /_emulator/stats`: what the portal answered since the start or the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Portal requests (ListAccounts, ListAccountRoles, GetRoleCredentials, Logout).
    pub requests: u64,
    /// Of those, answered 429 TooManyRequestsException.
    pub throttled: u64,
    /// Of those, answered with a 5xx.
    pub failed: u64,
    /// Of those, held back by `--hang-first` or `--hang-every` before their answer.
    pub hung: u64,
}

/// The whole emulated service behind one lock.
#[derive(Debug)]
pub struct Emulator {
    pub state: State,
    pub faults: Faults,
    pub log: Vec<LoggedRequest>,
    pub stats: Stats,
    /// How far the emulator's clock is from the real one, in ms: `--clock-offset-ms`, moved by
    /// `POST /_emulator/clock`, so tests reach an expiry without waiting for it.
    pub clock_offset_ms: i64,
}

/// The emulator's answer to one request.
#[derive(Debug)]
pub struct Answer {
    pub operation: Operation,
    pub response: ApiResponse,
    /// How long to hold the answer back, for a request that hangs.
    pub hang: Option<Duration>,
    /// Send a 200 whose body never ends instead of `response`.
    pub endless: bool,
}

impl Emulator {
    pub fn new(state: State, faults: Faults) -> Emulator {
        Emulator { state, faults, log: Vec::new(), stats: Stats::default(), clock_offset_ms: 0 }
    }

    /// The emulator's time (epoch ms) when the real clock reads `real` (epoch ms).
    pub fn now(&self, real: u64) -> u64 {
        real.saturating_add_signed(self.clock_offset_ms)
    }

    /// Answers one API request arriving at `real` (epoch ms by the real clock) and records it in
    /// the log and the stats.
    pub fn handle(&mut self, request: &ApiRequest, real: u64) -> Answer {
        let now = self.now(real);
        let operation = Operation::of(request);
        let mut hang = None;
        let mut endless = false;
        let response = if operation.is_portal() {
            let token = request.bearer_token.as_deref().unwrap_or_default();
            let verdict = self.faults.check(token, now);
            hang = verdict.hang;
            endless = verdict.endless;
            let response = match verdict.error {
                Some(error) => error.into_response(),
                None => self.dispatch(operation, request, now),
            };
            self.stats.requests += 1;
            self.stats.throttled += u64::from(response.status == 429);
            self.stats.failed += u64::from(response.status >= 500);
            self.stats.hung += u64::from(hang.is_some());
            response
        } else if operation.is_sts() {
            match self.faults.check_sts() {
                Some(StsFault::ServerError) => sts::internal_failure(),
                Some(StsFault::Throttle) => sts::throttled(),
                Some(StsFault::Hang) => {
                    hang = Some(self.faults.hang());
                    self.dispatch(operation, request, now)
                }
                None => self.dispatch(operation, request, now),
            }
        } else if let Some(fault) = self.refresh_fault(operation, request) {
            // Answered before the service sees it, so the refresh token stays good.
            let (response, wait) = fault.answer(self.faults.hang());
            hang = wait;
            response
        } else {
            self.dispatch(operation, request, now)
        };
        self.log.push(LoggedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            operation: operation.name(),
            status: response.status,
        });
        Answer { operation, response, hang, endless }
    }

    /// The fault injected into `request` when it is a refresh (CreateToken with the
    /// refresh_token grant) and `--refresh-fault` is set.
    fn refresh_fault(&self, operation: Operation, request: &ApiRequest) -> Option<RefreshFault> {
        let fault = self.faults.refresh_fault()?;
        if operation != Operation::CreateToken {
            return None;
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).ok()?;
        (body["grantType"] == REFRESH_TOKEN_GRANT).then_some(fault)
    }

    fn dispatch(&mut self, operation: Operation, request: &ApiRequest, now: u64) -> ApiResponse {
        let state = &mut self.state;
        match operation {
            Operation::RegisterClient => oidc::register_client(state, request, now),
            Operation::StartDeviceAuthorization => {
                oidc::start_device_authorization(state, request, now)
            }
            Operation::CreateToken if request.query_param("aws_iam").is_some() => {
                crate::wire::OidcError::new(
                    crate::wire::OidcErrorKind::InvalidRequest,
                    "CreateTokenWithIAM needs SigV4-signed requests; the emulator does not offer it",
                )
                .into_response()
            }
            Operation::CreateToken => oidc::create_token(state, request, now),
            Operation::Authorize => oidc::authorize(state, request, now),
            Operation::DeviceVerification => oidc::device_page(state, request, now),
            Operation::ListAccounts => portal::list_accounts(state, request, now),
            Operation::ListAccountRoles => portal::list_account_roles(state, request, now),
            Operation::GetRoleCredentials => portal::get_role_credentials(state, request, now),
            Operation::Logout => portal::logout(state, request, now),
            Operation::Federation => federation::federation(state, request, now),
            Operation::StartPage => oidc::start_page(state),
            Operation::AssumeRole => sts::assume_role(state, request, now),
            Operation::GetCallerIdentity => sts::get_caller_identity(state, request, now),
            Operation::StsUnknown => sts::unknown_action(request),
            Operation::Unknown => PortalError::new(
                PortalErrorKind::UnknownOperation,
                format!("No operation is served at {} {}", request.method, request.path),
            )
            .into_response(),
        }
    }

    /// The test hooks: `GET /_emulator/requests`, `GET /_emulator/clients` (what each client
    /// registered with, never its secret), `GET /_emulator/stats`, `POST /_emulator/reset-log`
    /// (which forgets the log and the stats, not where the fault schedules stand),
    /// `POST /_emulator/clear-faults` (turns every injected fault off), and
    /// `GET`/`POST /_emulator/clock` (`?advance_ms=N` moves the clock by N ms, N may be negative).
    fn hook(&mut self, request: &ApiRequest, real: u64) -> ApiResponse {
        match (request.method.as_str(), request.path.as_str()) {
            (method @ ("GET" | "POST"), "/_emulator/clock") => {
                if method == "POST" {
                    let Some(step) =
                        request.query_param("advance_ms").and_then(|ms| ms.parse::<i64>().ok())
                    else {
                        return ApiResponse::json(
                            400,
                            &serde_json::json!({"message": "POST /_emulator/clock?advance_ms=N, N an integer (ms, may be negative)"}),
                        );
                    };
                    self.clock_offset_ms = self.clock_offset_ms.saturating_add(step);
                }
                ApiResponse::json(
                    200,
                    &serde_json::json!({"offsetMs": self.clock_offset_ms, "nowMs": self.now(real)}),
                )
            }
            ("GET", "/_emulator/requests") => match serde_json::to_value(&self.log) {
                Ok(log) => ApiResponse::json(200, &log),
                Err(error) => {
                    ApiResponse::json(500, &serde_json::json!({"message": error.to_string()}))
                }
            },
            ("GET", "/_emulator/clients") => {
                let mut clients: Vec<_> = self.state.clients.iter().collect();
                clients.sort_by_key(|(_, client)| client.registered_at);
                let clients: Vec<_> = clients
                    .into_iter()
                    .map(|(id, client)| {
                        serde_json::json!({
                            "clientId": id,
                            "clientName": client.name,
                            "scopes": client.scopes,
                            "grantTypes": client.grant_types,
                            "redirectUris": client.redirect_uris,
                            "issuerUrl": client.issuer_url,
                        })
                    })
                    .collect();
                ApiResponse::json(200, &serde_json::Value::Array(clients))
            }
            ("GET", "/_emulator/stats") => match serde_json::to_value(self.stats) {
                Ok(stats) => ApiResponse::json(200, &stats),
                Err(error) => {
                    ApiResponse::json(500, &serde_json::json!({"message": error.to_string()}))
                }
            },
            ("POST", "/_emulator/reset-log") => {
                self.log.clear();
                self.stats = Stats::default();
                ApiResponse::empty(200)
            }
            ("POST", "/_emulator/clear-faults") => {
                self.faults.clear();
                ApiResponse::empty(200)
            }
            _ => ApiResponse::json(
                404,
                &serde_json::json!({"message": "test hooks: GET /_emulator/requests, GET /_emulator/clients, GET /_emulator/stats, POST /_emulator/reset-log, POST /_emulator/clear-faults, GET or POST /_emulator/clock"}),
            ),
        }
    }
}

pub fn now_ms() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// How the server behaves beyond the emulated service itself.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    pub quiet: bool,
    pub latency: Duration,
}

/// Serves until SIGTERM (received through `terminate`) or SIGINT.
pub async fn serve(
    listener: TcpListener,
    mut terminate: Signal,
    emulator: Emulator,
    options: ServerOptions,
) {
    let emulator = Arc::new(Mutex::new(emulator));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: keep serving the connections we have.
                    log_line(&format!("accept failed: {error}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = terminate.recv() => return,
            _ = tokio::signal::ctrl_c() => return,
        };
        let emulator = Arc::clone(&emulator);
        tokio::spawn(async move {
            let service =
                service_fn(move |request| answer(Arc::clone(&emulator), options, request));
            // A client hanging up mid-request is its business, not a server failure.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn answer(
    emulator: Arc<Mutex<Emulator>>,
    options: ServerOptions,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = std::time::Instant::now();
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            let response = ApiResponse::json(
                413,
                &serde_json::json!({"message": "Request body too large or unreadable"}),
            );
            return Ok(to_hyper(response));
        }
    };
    let request = ApiRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parse_query(parts.uri.query().unwrap_or_default()),
        bearer_token: parts
            .headers
            .get("x-amz-sso_bearer_token")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
            })
            .collect(),
        body,
    };

    if request.path.starts_with("/_emulator/") {
        let response =
            emulator.lock().unwrap_or_else(PoisonError::into_inner).hook(&request, now_ms());
        return Ok(to_hyper(response));
    }

    let Answer { operation, response, hang, endless } =
        emulator.lock().unwrap_or_else(PoisonError::into_inner).handle(&request, now_ms());
    // Slept without the lock, so one hung request holds up no other.
    let delay = options.latency + hang.unwrap_or_default();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if !options.quiet {
        log_line(&format!(
            "{} {} {} {}{} ({} ms{})",
            request.method,
            request.path,
            operation.name(),
            response.status,
            response.error_type.map(|t| format!(" {t}")).unwrap_or_default(),
            started.elapsed().as_millis(),
            if hang.is_some() { ", hung" } else { "" }
        ));
    }
    if endless {
        let mut endless = Response::new(Body::Endless);
        endless.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return Ok(endless);
    }
    Ok(to_hyper(response))
}

/// One 64 KiB piece of an endless body: the start of a JSON string, repeated.
static ENDLESS_CHUNK: [u8; 1 << 16] = [b'a'; 1 << 16];

/// A response body: the whole answer, or (`--endless-body-first`) one that never ends.
pub enum Body {
    Full(Full<Bytes>),
    Endless,
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(full) => std::pin::Pin::new(full).poll_frame(cx),
            Body::Endless => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(
                Bytes::from_static(&ENDLESS_CHUNK),
            )))),
        }
    }

    // Forwarded so that a whole answer keeps its Content-Length rather than going chunked.
    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(full) => full.is_end_stream(),
            Body::Endless => false,
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Full(full) => full.size_hint(),
            Body::Endless => hyper::body::SizeHint::default(),
        }
    }
}

fn to_hyper(response: ApiResponse) -> Response<Body> {
    let mut builder =
        Response::builder().status(response.status).header("server", "aws-sso-emulator");
    // STS names its request id in the body too, and sets the header to match.
    if !response.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("x-amzn-RequestId")) {
        builder = builder.header("x-amzn-RequestId", request_id());
    }
    for (name, value) in &response.headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::Full(Full::new(Bytes::from(response.body)))).unwrap_or_else(|error| {
        let mut fallback = Response::new(Body::Full(Full::new(Bytes::from(error.to_string()))));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// A request id in the UUID layout the services use.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn log_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    // stderr gone means nobody reads the log; serving matters more.
    let _ = writeln!(stderr, "aws-sso-emulator: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultSettings;
    use crate::state::{Directory, Settings};

    #[test]
    fn every_request_is_logged_with_its_operation_and_status() {
        let state = State::new(Settings::default(), Directory::generate(1, 1).unwrap());
        let mut emulator = Emulator::new(state, Faults::new(FaultSettings::default()));
        let register = ApiRequest {
            method: "POST".into(),
            path: "/client/register".into(),
            body: br#"{"clientName":"c","clientType":"public"}"#.to_vec(),
            ..Default::default()
        };
        let accounts = ApiRequest {
            method: "GET".into(),
            path: "/assignment/accounts".into(),
            ..Default::default()
        };
        let nowhere =
            ApiRequest { method: "GET".into(), path: "/nowhere".into(), ..Default::default() };
        for request in [&register, &accounts, &nowhere] {
            emulator.handle(request, 0);
        }
        let log: Vec<_> = emulator.log.iter().map(|l| (l.operation, l.status)).collect();
        assert_eq!(log, [("RegisterClient", 200), ("ListAccounts", 401), ("Unknown", 404)]);
        let hook = ApiRequest {
            method: "POST".into(),
            path: "/_emulator/reset-log".into(),
            ..Default::default()
        };
        emulator.hook(&hook, 0);
        assert!(emulator.log.is_empty());
    }

    #[test]
    fn the_clock_moves_what_expires_and_refuses_a_bad_step() {
        let settings = Settings { token_ttl: 10, ..Settings::default() };
        let state = State::new(settings, Directory::generate(1, 1).unwrap());
        let mut emulator = Emulator::new(state, Faults::new(FaultSettings::default()));
        emulator
            .state
            .access_tokens
            .insert("token".into(), crate::state::AccessToken { session: 1, expires_at: 10_000 });
        let accounts = portal_request("/assignment/accounts");
        assert_eq!(emulator.handle(&accounts, 9_000).response.status, 200);
        let clock = |query: &str| ApiRequest {
            method: "POST".into(),
            path: "/_emulator/clock".into(),
            query: crate::wire::parse_query(query),
            ..Default::default()
        };
        let moved = emulator.hook(&clock("advance_ms=1500"), 9_000);
        assert_eq!(moved.body_json(), Some(serde_json::json!({"offsetMs": 1500, "nowMs": 10_500})));
        assert_eq!(emulator.handle(&accounts, 9_000).response.status, 401, "expired by the clock");
        assert_eq!(emulator.hook(&clock("advance_ms=-1500"), 9_000).status, 200);
        assert_eq!(emulator.handle(&accounts, 9_000).response.status, 200, "moved back");
        assert_eq!(emulator.hook(&clock("advance_ms=soon"), 9_000).status, 400);
        assert_eq!(emulator.clock_offset_ms, 0, "a refused step moves nothing");
    }

    #[test]
    fn a_refresh_fault_answers_before_the_service_and_clearing_it_reaches_the_service() {
        let state = State::new(Settings::default(), Directory::generate(1, 1).unwrap());
        let faults = Faults::new(FaultSettings {
            refresh_fault: Some(RefreshFault::ServerError),
            ..FaultSettings::default()
        });
        let mut emulator = Emulator::new(state, faults);
        let create_token = |grant: &str| ApiRequest {
            method: "POST".into(),
            path: "/token".into(),
            body: serde_json::json!({"clientId": "c", "clientSecret": "s", "grantType": grant,
                "refreshToken": "r", "deviceCode": "d"})
            .to_string()
            .into_bytes(),
            ..Default::default()
        };
        let refresh = create_token("refresh_token");
        assert_eq!(emulator.handle(&refresh, 0).response.status, 500);
        // Another grant goes to the service, which does not know the client.
        let device = create_token("urn:ietf:params:oauth:grant-type:device_code");
        assert_eq!(emulator.handle(&device, 0).response.status, 401);
        let clear = ApiRequest {
            method: "POST".into(),
            path: "/_emulator/clear-faults".into(),
            ..Default::default()
        };
        assert_eq!(emulator.hook(&clear, 0).status, 200);
        assert_eq!(emulator.handle(&refresh, 0).response.status, 401, "the service answered");
        let log: Vec<_> = emulator.log.iter().map(|l| (l.operation, l.status)).collect();
        assert_eq!(log, [("CreateToken", 500), ("CreateToken", 401), ("CreateToken", 401)]);
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }

    fn portal_request(path: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            path: path.into(),
            bearer_token: Some("token".into()),
            ..Default::default()
        }
    }

    #[test]
    fn stats_count_portal_answers_by_fault_and_reset_with_the_log() {
        let state = State::new(Settings::default(), Directory::generate(1, 1).unwrap());
        let faults = Faults::new(FaultSettings {
            throttle_every: Some(3),
            fail_first: 1,
            hang_first: 1,
            hang: Duration::from_millis(20),
            ..FaultSettings::default()
        });
        let mut emulator = Emulator::new(state, faults);
        let accounts = portal_request("/assignment/accounts");
        let answers: Vec<_> = (0..6).map(|_| emulator.handle(&accounts, 0)).collect();
        let statuses: Vec<_> = answers.iter().map(|a| a.response.status).collect();
        // Request 1 fails and hangs, 3 and 6 are throttled, the rest have no valid token.
        assert_eq!(statuses, [500, 401, 429, 401, 401, 429]);
        assert_eq!(answers[0].hang, Some(Duration::from_millis(20)));
        assert!(answers[1..].iter().all(|a| a.hang.is_none()));
        let register = ApiRequest {
            method: "POST".into(),
            path: "/client/register".into(),
            ..Default::default()
        };
        emulator.handle(&register, 0);

        let stats = ApiRequest {
            method: "GET".into(),
            path: "/_emulator/stats".into(),
            ..Default::default()
        };
        assert_eq!(
            emulator.hook(&stats, 0).body_json(),
            Some(serde_json::json!({"requests": 6, "throttled": 2, "failed": 1, "hung": 1}))
        );
        let reset = ApiRequest {
            method: "POST".into(),
            path: "/_emulator/reset-log".into(),
            ..Default::default()
        };
        emulator.hook(&reset, 0);
        assert_eq!(
            emulator.hook(&stats, 0).body_json(),
            Some(serde_json::json!({"requests": 0, "throttled": 0, "failed": 0, "hung": 0}))
        );
        // The schedule goes on where it stood: request 9 is the next one in three.
        let statuses: Vec<_> =
            (0..3).map(|_| emulator.handle(&accounts, 0).response.status).collect();
        assert_eq!(statuses, [401, 401, 429]);
    }

    #[test]
    fn sts_is_served_at_the_root_by_its_action_and_its_faults_answer_in_xml() {
        let request = |method: &str, path: &str, query: &str| ApiRequest {
            method: method.into(),
            path: path.into(),
            query: crate::wire::parse_query(query),
            ..Default::default()
        };
        let of =
            |method: &str, path: &str, query: &str| Operation::of(&request(method, path, query));
        assert_eq!(of("POST", "/", "Action=AssumeRole&Version=2011-06-15"), Operation::AssumeRole);
        assert_eq!(
            of("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15"),
            Operation::GetCallerIdentity
        );
        assert_eq!(of("GET", "/", "Action=GetCallerIdentity"), Operation::StsUnknown);
        assert_eq!(of("GET", "/", ""), Operation::StsUnknown);
        assert_eq!(
            of("GET", "/federation/credentials", "Action=AssumeRole"),
            Operation::GetRoleCredentials
        );
        assert_eq!(of("POST", "/token", "Action=AssumeRole"), Operation::CreateToken);

        let state = State::new(Settings::default(), Directory::generate(1, 1).unwrap());
        let faults = Faults::new(FaultSettings {
            sts_fault: Some(StsFault::ServerError),
            sts_fault_first: 1,
            ..FaultSettings::default()
        });
        let mut emulator = Emulator::new(state, faults);
        let call = request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15");
        let failed = emulator.handle(&call, 0).response;
        assert_eq!((failed.status, failed.error_type), (500, Some("InternalFailure")));
        assert!(String::from_utf8_lossy(&failed.body).contains("<Type>Receiver</Type>"));
        let unsigned = emulator.handle(&call, 0).response;
        assert_eq!(
            (unsigned.status, unsigned.error_type),
            (403, Some("MissingAuthenticationToken"))
        );
        let log: Vec<_> =
            emulator.log.iter().map(|l| (l.operation, l.status, l.path.as_str())).collect();
        assert_eq!(log, [("GetCallerIdentity", 500, "/"), ("GetCallerIdentity", 403, "/")]);
        assert_eq!(emulator.stats, Stats::default(), "STS requests are not portal requests");
    }
}
