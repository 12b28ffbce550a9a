//! Starting `aws-sso-emulator` for a test, asking it what it was asked, and finding the
//! workspace's binaries.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

/// How long the emulator may take to print its URL.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// `GET /_emulator/stats`: portal requests since the start or the last `reset_log`, and how many
/// of them were answered 429, answered 5xx, or held back by `--hang-first`/`--hang-every`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub throttled: u64,
    pub failed: u64,
    pub hung: u64,
}

/// One HTTP exchange with the emulator, as `Emulator::send` returns it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics with the whole reply when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\r\n\r\n{}", self.head, self.body))
    }
}

/// A running emulator; dropping it kills the process and waits for it.
pub struct Emulator {
    /// The base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Emulator {
    /// Starts the built `aws-sso-emulator` with `args` and waits for its base URL.
    pub fn start(args: &[&str]) -> Emulator {
        Self::start_from(&bin_dir(), args)
    }

    /// The same, with the binaries of `bin_dir` (`target/release` for the benchmarks).
    pub fn start_from(bin_dir: &Path, args: &[&str]) -> Emulator {
        let binary = bin_in(bin_dir, "aws-sso-emulator");
        let mut child = Command::new(&binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(read @ 1..) = child_stderr.read(&mut chunk) {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&String::from_utf8_lossy(&chunk[..read]));
            }
        });

        let stdout = child.stdout.take().expect("piped stdout");
        let (first_line, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next());
            // Keep reading so a chatty emulator never blocks on a full pipe.
            for _ in lines {}
        });
        let url = match receive.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Some(Ok(line))) if line.starts_with("http://127.0.0.1:") => line.trim().to_owned(),
            outcome => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(50));
                panic!(
                    "aws-sso-emulator {args:?} did not print its URL within {STARTUP_TIMEOUT:?} \
                     (got {outcome:?}); its stderr:\n{}",
                    stderr.lock().unwrap_or_else(PoisonError::into_inner)
                );
            }
        };
        Emulator { url, child, stderr }
    }

    /// What the emulator logged on stderr so far (one line per request).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The request log: `{"method","path","operation","status"}` per request, in order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let body = self.call("GET", "/_emulator/requests");
        match serde_json::from_str(&body) {
            Ok(serde_json::Value::Array(requests)) => requests,
            _ => panic!("GET /_emulator/requests did not answer a JSON array: {body}"),
        }
    }

    /// The operation names of the request log, in order (`RegisterClient`, `CreateToken`, …).
    pub fn operations(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|request| request["operation"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// What each client registered with (`clientName`, `scopes`, `grantTypes`, `redirectUris`,
    /// `issuerUrl`), in registration order.
    pub fn clients(&self) -> Vec<serde_json::Value> {
        let body = self.call("GET", "/_emulator/clients");
        match serde_json::from_str(&body) {
            Ok(serde_json::Value::Array(clients)) => clients,
            _ => panic!("GET /_emulator/clients did not answer a JSON array: {body}"),
        }
    }

    /// Forgets the requests logged and the stats counted so far (the fault schedules go on).
    pub fn reset_log(&self) {
        self.call("POST", "/_emulator/reset-log");
    }

    /// Turns every injected fault off (`POST /_emulator/clear-faults`): the service is healthy again.
    pub fn clear_faults(&self) {
        self.call("POST", "/_emulator/clear-faults");
    }

    /// Moves the emulator's clock `ms` later (earlier when negative), so what it issued expires by
    /// its clock without the test waiting; returns the clock's offset from the real one, in ms.
    pub fn advance_clock(&self, ms: i64) -> i64 {
        let body = self.call("POST", &format!("/_emulator/clock?advance_ms={ms}"));
        let clock: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("POST /_emulator/clock is not JSON ({e}): {body}"));
        clock["offsetMs"].as_i64().unwrap_or_else(|| panic!("no offsetMs in {body}"))
    }

    /// What the portal answered so far, by kind of fault.
    pub fn stats(&self) -> Stats {
        let body = self.call("GET", "/_emulator/stats");
        let stats: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET /_emulator/stats is not JSON ({e}): {body}"));
        let count = |name: &str| {
            stats[name].as_u64().unwrap_or_else(|| panic!("no {name} in the stats: {body}"))
        };
        Stats {
            requests: count("requests"),
            throttled: count("throttled"),
            failed: count("failed"),
            hung: count("hung"),
        }
    }

    /// One HTTP/1.1 request with `headers` and a JSON `body`; waits at most 30 s for the answer.
    pub fn send(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address)
            .unwrap_or_else(|e| panic!("cannot connect to the emulator at {}: {e}", self.url));
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("set a read timeout");
        let mut request =
            format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        stream.write_all(request.as_bytes()).expect("send a request to the emulator");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the emulator's answer");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in the emulator's answer:\n{answer}"));
        Reply { status, head: head.to_owned(), body: body.to_owned() }
    }

    /// A portal GET (`/assignment/accounts?…`, …) made with `access_token`.
    pub fn portal_get(&self, target: &str, access_token: &str) -> Reply {
        self.send("GET", target, &[("x-amz-sso_bearer_token", access_token)], "")
    }

    /// A device-code login by hand, with no portal request (so the fault schedules, which count
    /// portal requests, have not started). Needs the default `--device-approval after:1`.
    pub fn device_login(&self) -> Login {
        let register = self
            .send(
                "POST",
                "/client/register",
                &[],
                r#"{"clientName":"t","clientType":"public","scopes":["sso:account:access"]}"#,
            )
            .json();
        let start = self
            .send(
                "POST",
                "/device_authorization",
                &[],
                &serde_json::json!({"clientId": register["clientId"], "clientSecret": register["clientSecret"],
                    "startUrl": "https://d-1234567890.awsapps.com/start"})
                .to_string(),
            )
            .json();
        let poll = serde_json::json!({"clientId": register["clientId"], "clientSecret": register["clientSecret"],
            "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": start["deviceCode"]})
        .to_string();
        let pending = self.send("POST", "/token", &[], &poll);
        assert_eq!(pending.status, 400, "{}", pending.body);
        let token = self.send("POST", "/token", &[], &poll).json();
        let text = |value: &serde_json::Value, name: &str| {
            value[name].as_str().unwrap_or_else(|| panic!("no {name} in {value}")).to_owned()
        };
        Login {
            access_token: text(&token, "accessToken"),
            refresh_token: token["refreshToken"].as_str().map(str::to_owned),
            client_id: text(&register, "clientId"),
            client_secret: text(&register, "clientSecret"),
        }
    }

    /// Trades `login`'s refresh token for a new access token (and refresh token).
    pub fn refresh(&self, login: &Login) -> Login {
        let refresh_token = login.refresh_token.as_deref().expect("the login has a refresh token");
        let body =
            serde_json::json!({"clientId": login.client_id, "clientSecret": login.client_secret,
            "grantType": "refresh_token", "refreshToken": refresh_token})
            .to_string();
        let token = self.send("POST", "/token", &[], &body).json();
        Login {
            access_token: token["accessToken"]
                .as_str()
                .unwrap_or_else(|| panic!("no accessToken in {token}"))
                .to_owned(),
            refresh_token: token["refreshToken"].as_str().map(str::to_owned),
            ..login.clone()
        }
    }

    /// One plain HTTP/1.1 request to the emulator; returns the body of a 200 answer.
    fn call(&self, method: &str, path: &str) -> String {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address)
            .unwrap_or_else(|e| panic!("cannot connect to the emulator at {}: {e}", self.url));
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("set a read timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("send a request to the emulator");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read the emulator's answer");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        assert!(head.starts_with("HTTP/1.1 200"), "{method} {path} answered:\n{response}");
        body.to_owned()
    }
}

/// The tokens of a login made with `Emulator::device_login`.
#[derive(Debug, Clone)]
pub struct Login {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub client_id: String,
    pub client_secret: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the workspace's binaries are: next to the running test or tool
/// (`target/<profile>/deps/<test>` or `target/<profile>/xtask` → `target/<profile>`).
pub fn bin_dir() -> PathBuf {
    let running = std::env::current_exe().expect("path of the running test");
    let mut dir = running.parent().expect("the running binary has a directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The path of a binary of this workspace, built next to the running test.
pub fn workspace_bin(name: &str) -> PathBuf {
    bin_in(&bin_dir(), name)
}

/// The path of `name` in `dir`, which must exist.
pub fn bin_in(dir: &Path, name: &str) -> PathBuf {
    let binary = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing or stale: run the tests with `cargo xtask test` (it builds every binary first)",
        binary.display()
    );
    binary
}

/// Role credentials the emulator's portal issued (GetRoleCredentials), to sign STS requests with.
#[derive(Debug, Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl Emulator {
    /// GetRoleCredentials of `role_name` in `account_id` with `access_token` (a portal request,
    /// so it counts in the fault schedules); panics unless the portal answers them.
    pub fn role_credentials(
        &self,
        access_token: &str,
        account_id: &str,
        role_name: &str,
    ) -> RoleCredentials {
        let reply = self.portal_get(
            &format!("/federation/credentials?role_name={role_name}&account_id={account_id}"),
            access_token,
        );
        assert_eq!(
            reply.status, 200,
            "GetRoleCredentials answered:\n{}\n\n{}",
            reply.head, reply.body
        );
        let credentials = &reply.json()["roleCredentials"];
        let text = |name: &str| {
            credentials[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in the role credentials"))
                .to_owned()
        };
        RoleCredentials {
            access_key_id: text("accessKeyId"),
            secret_access_key: text("secretAccessKey"),
            session_token: text("sessionToken"),
        }
    }
}

impl Emulator {
    /// The statuses of the logged requests of `operation` (`AssumeRole`, `GetCallerIdentity`,
    /// `GetRoleCredentials`, …), in order: how many calls a client made, and how each was answered.
    pub fn statuses_of(&self, operation: &str) -> Vec<u16> {
        self.requests()
            .iter()
            .filter(|request| request["operation"] == operation)
            .map(|request| {
                request["status"]
                    .as_u64()
                    .and_then(|status| u16::try_from(status).ok())
                    .unwrap_or_else(|| panic!("no status in {request}"))
            })
            .collect()
    }
}
