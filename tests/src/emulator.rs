//! Starting `aws-sso-emulator` for a test, asking it what it was asked, and finding the
//! workspace's binaries.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

/// How long the emulator may take to print its URL.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

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
        let binary = workspace_bin("aws-sso-emulator");
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

    /// Forgets the requests logged so far.
    pub fn reset_log(&self) {
        self.call("POST", "/_emulator/reset-log");
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

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of a binary of this workspace, built next to the running test
/// (`target/<profile>/deps/<test>` → `target/<profile>/<name>`).
pub fn workspace_bin(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("path of the running test");
    let mut dir = test_binary.parent().expect("the test binary has a directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing or stale: run the tests with `cargo xtask test` (it builds every binary first)",
        binary.display()
    );
    binary
}
