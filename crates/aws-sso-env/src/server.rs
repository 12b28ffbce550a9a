//! `aws-sso-env exec --server [ACCOUNT [ROLE]] -- COMMAND…`: the command runs as a child with a
//! container credentials endpoint on 127.0.0.1 instead of keys, so any AWS SDK in it fetches
//! fresh role credentials whenever the ones it has run out. The endpoint lives exactly
//! as long as the child; the signals that would stop us are passed on to it.
//!
//! The endpoint is a few lines of HTTP/1.1: one GET per connection, answered and closed. Only a
//! request whose `Authorization` header is the token handed to the child is answered with
//! credentials; anything else gets 401.

use std::cell::Cell;
use std::ffi::OsString;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, ExitCode, ExitStatus};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Context as _;
use aws_sso_core::container::{self, Served};
use aws_sso_core::credentials::REUSE_WINDOW;
use aws_sso_core::error::ErrorKind;
use aws_sso_core::resolve::{self, ResolvedRole};
use aws_sso_core::secret::Secret;
use aws_sso_core::session::{Context, SessionRequest};
use aws_sso_core::shell;
use jiff::Timestamp;
use rustix::process::{Pid, Signal, kill_process};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Mutex;

use crate::child;
use crate::cli::ExecArgs;

/// The credential variables of `exec` that the child must not get: it asks the endpoint.
const STATIC_KEYS: &[&str] = &[
    shell::AWS_ACCESS_KEY_ID,
    shell::AWS_SECRET_ACCESS_KEY,
    shell::AWS_SESSION_TOKEN,
    shell::AWS_CREDENTIAL_EXPIRATION,
];

/// Other ways to a container endpoint that SDKs would take instead of ours.
const OTHER_ENDPOINTS: &[&str] = &[
    container::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
    container::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
];

/// A request head larger than this is not an SDK asking for credentials.
const MAX_HEAD: usize = 16 * 1024;

/// A client that has not sent its request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(ctx: &Context, request: &SessionRequest, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    let (resolved, creds) = crate::credentials_for(ctx, request, &args.role, REUSE_WINDOW)?;
    let view = crate::view(ctx, &resolved, &creds, args.region.clone(), true);
    let (mut command, program) = child::command(args, &resolved)?;
    let token = container::new_authorization_token()
        .map_err(|e| anyhow::anyhow!("cannot make a random token for the endpoint: {e}"))?;
    for name in OTHER_ENDPOINTS {
        command.env_remove(name);
    }
    for (name, value) in view.exports().vars {
        if !STATIC_KEYS.contains(&name) {
            command.env(name, value);
        }
    }
    command.env(container::AWS_CONTAINER_AUTHORIZATION_TOKEN, token.expose());

    // The endpoint outlives this borrow: it gets a context of its own, read the same way.
    let own_ctx = Context::load(ctx.env.clone(), request.profile.as_deref())?;
    let endpoint = Endpoint {
        ctx: own_ctx,
        resolved,
        token,
        served: Mutex::new(Served::new(creds, Timestamp::now())),
        warned: Cell::new(false),
    };
    let runtime = aws_sso_cli::runtime()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, serve(Rc::new(endpoint), command, program))
}

/// Binds the endpoint, starts the child, and answers requests until the child exits.
async fn serve(
    endpoint: Rc<Endpoint>,
    mut command: Command,
    program: &OsString,
) -> anyhow::Result<ExitCode> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("cannot listen on 127.0.0.1 for the credentials endpoint")?;
    let port = listener.local_addr().context("the endpoint's port")?.port();
    command.env(
        container::AWS_CONTAINER_CREDENTIALS_FULL_URI,
        format!("http://127.0.0.1:{port}{}", container::CREDENTIALS_PATH),
    );
    // Listening before the child starts: a signal sent right after it starts reaches it.
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Ok(child::cannot_run(program, &e)),
    };
    let pid = Pid::from_child(&child);
    let mut exited = tokio::task::spawn_blocking(move || child.wait());
    let status = loop {
        tokio::select! {
            status = &mut exited => break status,
            Some(()) = interrupt.recv() => forward(pid, Signal::INT),
            Some(()) = terminate.recv() => forward(pid, Signal::TERM),
            Some(()) = hangup.recv() => forward(pid, Signal::HUP),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let endpoint = Rc::clone(&endpoint);
                    tokio::task::spawn_local(async move { endpoint.answer(stream).await });
                }
                Err(e) => tracing::debug!("accepting a connection to the endpoint: {e}"),
            },
        }
    };
    // The endpoint is gone with the child.
    drop(listener);
    let status = status
        .context("waiting for the command")?
        .with_context(|| format!("waiting for {}", program.to_string_lossy()))?;
    Ok(exit_code(status))
}

/// The child's exit code; 128 + the signal number when a signal ended it, as shells report it.
fn exit_code(status: ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1));
    }
    let signal = status.signal().unwrap_or(0);
    ExitCode::from(u8::try_from(128 + signal).unwrap_or(1))
}

/// Passes a signal on. A Ctrl-C in the terminal reaches the child directly as well (same process
/// group), so it may see SIGINT twice, as under aws-vault; a `kill` of our pid reaches it once.
fn forward(pid: Pid, signal: Signal) {
    // The child may have exited a moment ago: nothing left to tell.
    if let Err(e) = kill_process(pid, signal) {
        tracing::debug!("passing signal {signal:?} to the command: {e}");
    }
}

/// What answers requests: the role, the token, and the credentials handed out last.
struct Endpoint {
    ctx: Context,
    resolved: ResolvedRole,
    token: Secret,
    /// Held across a fetch, so that requests arriving together make one.
    served: Mutex<Served>,
    /// Whether the user was told that the session needs a login, since the last success.
    warned: Cell<bool>,
}

/// An HTTP answer: status and JSON body.
struct Answer {
    status: u16,
    body: String,
}

impl Endpoint {
    async fn answer(&self, mut stream: TcpStream) {
        let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
            Ok(Some(head)) => head,
            _ => return,
        };
        let answer = self.respond(&head).await;
        let reply = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            answer.status,
            reason(answer.status),
            answer.body.len(),
            answer.body
        );
        // A client that went away does not need its answer.
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    async fn respond(&self, head: &str) -> Answer {
        let request = Request::parse(head);
        if !container::token_matches(request.authorization, &self.token) {
            return Answer {
                status: 401,
                body: container::error_json(
                    "Unauthorized",
                    "the Authorization header is not AWS_CONTAINER_AUTHORIZATION_TOKEN",
                ),
            };
        }
        if request.method != "GET" {
            return Answer {
                status: 405,
                body: container::error_json("MethodNotAllowed", "only GET is served"),
            };
        }
        if request.path.split('?').next() != Some(container::CREDENTIALS_PATH) {
            return Answer {
                status: 404,
                body: container::error_json(
                    "NotFound",
                    "credentials are served at AWS_CONTAINER_CREDENTIALS_FULL_URI",
                ),
            };
        }
        self.credentials().await
    }

    /// The credentials handed out last while they have enough time left, else fresh ones; the
    /// old ones while they still work when fresh ones cannot be had.
    async fn credentials(&self) -> Answer {
        let mut served = self.served.lock().await;
        if served.needs_refresh(Timestamp::now()) {
            let window = served.refresh_window();
            match resolve::fetch_credentials(&self.ctx, &self.resolved, window).await {
                Ok(fresh) => {
                    *served = Served::new(fresh, Timestamp::now());
                    self.warned.set(false);
                }
                Err(e) => {
                    let message = self.failure_message(&e);
                    self.warn_once(&message);
                    if !served.still_valid(Timestamp::now()) {
                        return Answer {
                            status: 500,
                            body: container::error_json("CredentialsUnavailable", &message),
                        };
                    }
                }
            }
        }
        Answer { status: 200, body: container::credentials_json(&served.credentials) }
    }

    fn failure_message(&self, error: &aws_sso_core::Error) -> String {
        let mut message = format!(
            "cannot get fresh credentials for role {} in account {}: {error}",
            self.resolved.final_role_name(),
            self.resolved.final_account_id()
        );
        if error.kind() == ErrorKind::NotLoggedIn && !message.contains("aws-sso-login") {
            let selector = self.resolved.session.selector();
            message.push_str(&format!(" Run: aws-sso-login {selector}"));
        }
        message.trim_end().replace('\n', " ")
    }

    /// One line on stderr the first time fresh credentials cannot be had, not one per request.
    fn warn_once(&self, message: &str) {
        if !self.warned.replace(true) {
            let _ = writeln!(std::io::stderr(), "{}: {message}", crate::NAME);
        }
    }
}

/// What the endpoint reads of a request head.
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    authorization: Option<&'a str>,
}

impl<'a> Request<'a> {
    fn parse(head: &'a str) -> Request<'a> {
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default();
        let path = first.next().unwrap_or_default();
        let authorization = lines.find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim().eq_ignore_ascii_case("authorization").then(|| value.trim())
        });
        Request { method, path, authorization }
    }
}

/// The request head, up to the empty line; `None` when the client sends too much or leaves.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return String::from_utf8(head).ok();
        }
        if head.len() > MAX_HEAD {
            return None;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_is_found_whatever_its_case() {
        let head =
            "GET /credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization:  tok \r\nAccept: */*";
        let request = Request::parse(head);
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/credentials");
        assert_eq!(request.authorization, Some("tok"));
        assert_eq!(Request::parse("GET / HTTP/1.1\r\nHost: x").authorization, None);
    }

    #[test]
    fn a_signal_death_is_128_plus_the_signal() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), ExitCode::from(7));
        assert_eq!(exit_code(ExitStatus::from_raw(15)), ExitCode::from(143));
    }
}
