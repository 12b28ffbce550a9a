//! `aws-sso-emulator browse URL`: a stand-in for a person with a browser, for tests, the demo and
//! anyone testing their own scripts offline.
//!
//! It opens URL as a browser would: it reads every answer whole (within a bound), follows
//! redirects, and so "approves" the emulator's device page or follows its `/authorize` redirect
//! to the client's loopback callback. It exits 0 only when the emulator's device page said the
//! code is approved, or when the flow reached the client's callback; otherwise it says what went
//! wrong and exits 1. It speaks plain HTTP/1.1 to loopback addresses only: it never reaches
//! beyond this machine.
//!
//! A client may run its browser command and wait for it to exit before it serves its callback
//! (Python's `webbrowser`, and so the AWS CLI, waits for a plain command). A browser keeps the
//! page open meanwhile; so does `browse`: when the callback has the request but has not answered
//! within [`CALLBACK_GRACE`], a copy of `browse` holding the connection (`__read-answer`) reads
//! the answer whole in the background, and `browse` exits 0. The callback never writes to a
//! closed connection.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

const MAX_REDIRECTS: usize = 10;
/// The status line and headers of one answer.
const MAX_HEAD_BYTES: usize = 64 << 10;
/// The body of one answer.
const MAX_BODY_BYTES: usize = 1 << 20;
/// How long one answer of the emulator (or a background read) may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the callback may take to answer before its answer is read in the background.
const CALLBACK_GRACE: Duration = Duration::from_secs(2);
/// The name the emulator's answers carry in their `server` header.
const EMULATOR_SERVER: &str = "aws-sso-emulator";

/// How a browse ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The emulator's device page approved the code.
    Approved,
    /// The client's callback got the request and answered (with a status below 400).
    ReachedCallback,
    /// The client's callback got the request and closed the connection without an answer.
    CallbackClosedEarly,
    /// The client's callback got the request; its answer is read in the background.
    CallbackAnswersLater,
}

pub fn run(url: &str) -> anyhow::Result<()> {
    let outcome = browse(url, CALLBACK_GRACE)?;
    let note = match outcome {
        Outcome::Approved | Outcome::ReachedCallback => return Ok(()),
        Outcome::CallbackClosedEarly => {
            "the client's callback closed the connection without an answer, once the request was sent"
        }
        Outcome::CallbackAnswersLater => {
            "the client's callback got the request and has not answered yet; its answer is read in the background"
        }
    };
    let _ = writeln!(std::io::stderr(), "aws-sso-emulator browse: {note}");
    Ok(())
}

/// Opens `start` and follows it until the device page approves or a client's callback has the
/// request; `grace` is how long the callback may take to answer before it is read in the
/// background.
pub fn browse(start: &str, grace: Duration) -> anyhow::Result<Outcome> {
    let first = Target::parse(start)?;
    let emulator_authority = first.authority.clone();
    let mut target = first;
    for _ in 0..=MAX_REDIRECTS {
        let shown = target.shown();
        let mut stream = target.connect()?;
        let at_emulator = target.authority == emulator_authority;
        stream.set_read_timeout(Some(if at_emulator { READ_TIMEOUT } else { grace }))?;
        stream.write_all(target.request("GET").as_bytes()).with_context(|| {
            format!("{shown} closed the connection before it got the whole request")
        })?;
        let answer = match read_answer(&mut stream, "GET") {
            Ok(answer) => answer,
            Err(ReadError::Closed) if !at_emulator => return Ok(Outcome::CallbackClosedEarly),
            Err(ReadError::TimedOut) if !at_emulator => {
                read_later(stream)?;
                return Ok(Outcome::CallbackAnswersLater);
            }
            Err(error) => bail!("{shown}: {error}"),
        };
        let from_emulator = answer.header("server") == Some(EMULATOR_SERVER);
        if (300..=399).contains(&answer.status)
            && let Some(location) = answer.header("location")
        {
            target = match target.follow(location) {
                Ok(next) => next,
                // The callback had the request; where it sends the page next is its business.
                Err(_) if !from_emulator => return Ok(Outcome::ReachedCallback),
                Err(error) => return Err(error),
            };
            continue;
        }
        if answer.status >= 400 {
            let what = if from_emulator { "the emulator" } else { "the client's callback" };
            bail!(
                "{what} answered {} at {shown}: {}",
                answer.status,
                answer.text().unwrap_or_else(|| "no explanation".to_owned())
            );
        }
        if !from_emulator {
            return Ok(Outcome::ReachedCallback);
        }
        if target.path_and_query.starts_with("/device")
            && answer.body_text().contains("<title>Request approved</title>")
        {
            return Ok(Outcome::Approved);
        }
        bail!(
            "the emulator's page at {shown} neither approved a device code nor led to a client's \
             callback ({}); open the verification URL with its user_code, or the /authorize URL a \
             client printed",
            answer.text().unwrap_or_else(|| format!("status {}", answer.status))
        );
    }
    bail!("more than {MAX_REDIRECTS} redirects from {start}")
}

/// Hands the connection to a copy of this program that reads the answer whole and exits, so the
/// callback can write its answer after we are gone.
fn read_later(stream: TcpStream) -> anyhow::Result<()> {
    let program = std::env::current_exe().context("cannot find this program to read later")?;
    Command::new(program)
        .arg("__read-answer")
        .stdin(Stdio::from(OwnedFd::from(stream)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start a background reader for the callback's answer")?;
    Ok(())
}

/// `aws-sso-emulator __read-answer`: reads the HTTP answer on stdin (a connection handed over by
/// `browse`) whole, within the bounds, and exits.
pub fn read_answer_on_stdin() -> anyhow::Result<()> {
    let fd = std::io::stdin().lock();
    let owned = std::os::fd::AsFd::as_fd(&fd)
        .try_clone_to_owned()
        .context("stdin is not a connection to read")?;
    let mut stream = TcpStream::from(owned);
    stream.set_read_timeout(Some(READ_TIMEOUT * 4)).context("stdin is not a connection")?;
    match read_answer(&mut stream, "GET") {
        Ok(_) | Err(ReadError::Closed) => Ok(()),
        Err(error) => bail!("{error}"),
    }
}

/// A loopback `http://` URL, split for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    authority: String,
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Target> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!(
                "only http:// URLs on this machine's loopback are opened, not `{}`",
                shorten(url)
            );
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let path = path.split('#').next().unwrap_or_default();
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => host,
            _ => authority,
        };
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            bail!(
                "refusing to open {}: only loopback addresses (127.0.0.1, localhost, [::1]) are opened",
                shorten(url)
            );
        }
        if url.chars().any(|c| c.is_control() || c == ' ') {
            bail!("the URL holds a space or a control character: {}", shorten(url));
        }
        let path_and_query = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Target { authority: authority.to_owned(), path_and_query })
    }

    /// Where a redirect leads: an absolute URL, or a path on the same server.
    fn follow(&self, location: &str) -> anyhow::Result<Target> {
        if location.starts_with('/') && !location.starts_with("//") {
            return Target::parse(&format!("http://{}{location}", self.authority));
        }
        Target::parse(location).context("cannot follow the redirect")
    }

    /// The URL without its query, which may hold a code or a state: for messages.
    fn shown(&self) -> String {
        let path = self.path_and_query.split('?').next().unwrap_or("/");
        format!("http://{}{path}", self.authority)
    }

    fn connect(&self) -> anyhow::Result<TcpStream> {
        let address = std::net::ToSocketAddrs::to_socket_addrs(&self.authority_with_port())
            .with_context(|| format!("cannot resolve {}", self.authority))?
            .next()
            .with_context(|| format!("{} names no address", self.authority))?;
        TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
            .with_context(|| format!("could not connect to {}", self.shown()))
    }

    fn authority_with_port(&self) -> String {
        let has_port = self
            .authority
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if has_port { self.authority.clone() } else { format!("{}:80", self.authority) }
    }

    fn request(&self, method: &str) -> String {
        format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: aws-sso-emulator-browse\r\n\
             Accept: text/html,*/*\r\nConnection: close\r\n\r\n",
            self.path_and_query, self.authority
        )
    }
}

/// One answer, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// What a person would read first on the page: its first paragraph, else its title, else
    /// the start of the text; at most 200 characters.
    fn text(&self) -> Option<String> {
        let body = self.body_text();
        let between = |open: &str, close: &str| {
            let start = body.find(open)? + open.len();
            let end = body[start..].find(close)? + start;
            Some(body[start..end].to_owned())
        };
        let raw = between("<p>", "</p>")
            .or_else(|| between("<title>", "</title>"))
            .unwrap_or(body.clone());
        let mut text = String::new();
        let mut in_tag = false;
        for c in raw.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(if c.is_control() { ' ' } else { c }),
                _ => {}
            }
        }
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then(|| shorten(&text))
    }
}

#[derive(Debug)]
enum ReadError {
    /// The connection ended (or was reset) before any answer.
    Closed,
    /// No answer within the read timeout.
    TimedOut,
    /// An answer that is not HTTP, too big, or cut short.
    Bad(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => write!(f, "the connection was closed without an answer"),
            ReadError::TimedOut => write!(f, "no answer within {} s", READ_TIMEOUT.as_secs()),
            ReadError::Bad(detail) => write!(f, "{detail}"),
        }
    }
}

/// Reads one HTTP/1.x answer whole: its head, then its body by Content-Length, chunks, or up
/// to the end of the connection, within the bounds.
fn read_answer(stream: &mut TcpStream, method: &str) -> Result<Answer, ReadError> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Bad(format!(
                "the answer's headers are larger than {} KiB",
                MAX_HEAD_BYTES >> 10
            )));
        }
        match fill(stream, &mut buffer)? {
            0 if buffer.is_empty() => return Err(ReadError::Closed),
            0 => return Err(ReadError::Bad("the answer ended inside its headers".to_owned())),
            _ => {}
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .filter(|line| line.starts_with("HTTP/1."))
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| ReadError::Bad("the answer is not HTTP/1.x".to_owned()))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    let mut rest = buffer.split_off(head_end + 4);
    let answer = |body| Answer { status, headers: headers.clone(), body };
    if method == "HEAD" || status < 200 || status == 204 || status == 304 {
        return Ok(answer(Vec::new()));
    }
    let header = |name: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    };
    let too_big =
        || ReadError::Bad(format!("the answer's body is larger than {} MiB", MAX_BODY_BYTES >> 20));
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return read_chunked(stream, rest).map(answer);
    }
    if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| ReadError::Bad(format!("Content-Length `{length}` is not a number")))?;
        if length > MAX_BODY_BYTES {
            return Err(too_big());
        }
        while rest.len() < length {
            if fill(stream, &mut rest)? == 0 {
                return Err(ReadError::Bad(format!(
                    "the answer ended after {} of its {length} bytes",
                    rest.len()
                )));
            }
        }
        rest.truncate(length);
        return Ok(answer(rest));
    }
    loop {
        if rest.len() > MAX_BODY_BYTES {
            return Err(too_big());
        }
        if fill(stream, &mut rest)? == 0 {
            return Ok(answer(rest));
        }
    }
}

fn read_chunked(stream: &mut TcpStream, mut pending: Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = find(&pending, b"\r\n") {
                break at;
            }
            if pending.len() > 1024 || fill(stream, &mut pending)? == 0 {
                return Err(ReadError::Bad("a chunk of the answer is cut short".to_owned()));
            }
        };
        let line = String::from_utf8_lossy(&pending[..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(format!("`{size_text}` is not a chunk size")))?;
        pending.drain(..line_end + 2);
        if size == 0 {
            // Trailers, if any, are not needed.
            return Ok(body);
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(ReadError::Bad(format!(
                "the answer's body is larger than {} MiB",
                MAX_BODY_BYTES >> 20
            )));
        }
        while pending.len() < size + 2 {
            if fill(stream, &mut pending)? == 0 {
                return Err(ReadError::Bad("a chunk of the answer is cut short".to_owned()));
            }
        }
        body.extend_from_slice(&pending[..size]);
        pending.drain(..size + 2);
    }
}

/// Reads what is there into `buffer`; 0 at the end of the connection (a reset counts as one).
fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<usize, ReadError> {
    let mut chunk = [0u8; 16 << 10];
    loop {
        match stream.read(&mut chunk) {
            Ok(read) => {
                buffer.extend_from_slice(&chunk[..read]);
                return Ok(read);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(ReadError::TimedOut);
            }
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return Ok(0);
            }
            Err(e) => return Err(ReadError::Bad(format!("cannot read the answer: {e}"))),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `aws-sso-emulator clock URL [MS]`: moves the clock of the emulator at URL by MS ms (when
/// given) and prints its answer, `{"offsetMs":…,"nowMs":…}`; for scripts and shell sessions
/// that cannot speak HTTP themselves.
pub fn clock(url: &str, advance_ms: Option<&str>) -> anyhow::Result<String> {
    let base = url.trim_end_matches('/');
    let (method, target) = match advance_ms {
        Some(ms) => {
            let ms: i64 = ms.parse().with_context(|| format!("`{ms}` is not a number of ms"))?;
            ("POST", format!("{base}/_emulator/clock?advance_ms={ms}"))
        }
        None => ("GET", format!("{base}/_emulator/clock")),
    };
    match request(method, &target)? {
        (200, body) => Ok(body),
        (status, body) => bail!("{method} {target} answered {status}: {body}"),
    }
}

/// One request with an empty body to the emulator at a loopback `url`; returns the status and
/// the body.
pub fn request(method: &str, url: &str) -> anyhow::Result<(u16, String)> {
    let target = Target::parse(url)?;
    let mut stream = target.connect()?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let request = target.request(method).replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n");
    stream.write_all(request.as_bytes()).with_context(|| format!("cannot send to {url}"))?;
    let answer =
        read_answer(&mut stream, method).map_err(|e| anyhow::anyhow!("{}: {e}", target.shown()))?;
    let body = answer.body_text();
    Ok((answer.status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_urls_are_opened() {
        let target = Target::parse("http://127.0.0.1:4000/device?user_code=AB#x").unwrap();
        assert_eq!(target.authority, "127.0.0.1:4000");
        assert_eq!(target.path_and_query, "/device?user_code=AB");
        assert_eq!(target.shown(), "http://127.0.0.1:4000/device");
        assert_eq!(Target::parse("http://localhost:9").unwrap().path_and_query, "/");
        assert_eq!(Target::parse("http://[::1]:9?a=1").unwrap().path_and_query, "/?a=1");
        for refused in [
            "https://127.0.0.1/",
            "http://example.com/",
            "http://127.0.0.1.example.com/",
            "http://user@example.com:80/",
            "file:///etc/passwd",
            "http://127.0.0.1:9/a b",
        ] {
            assert!(Target::parse(refused).is_err(), "{refused}");
        }
        let from = Target::parse("http://127.0.0.1:4000/authorize").unwrap();
        assert_eq!(from.follow("/start").unwrap().authority, "127.0.0.1:4000");
        assert!(from.follow("//evil.example/").is_err());
        assert_eq!(
            from.follow("http://127.0.0.1:5000/oauth/callback?code=c").unwrap().authority,
            "127.0.0.1:5000"
        );
    }

    /// Serves `answer` (raw bytes) to one connection after reading its request head.
    fn serve_once(answer: &'static [u8]) -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            while find(&head, b"\r\n\r\n").is_none() {
                let mut byte = [0u8; 1];
                if stream.read(&mut byte).unwrap() == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            stream.write_all(answer).unwrap();
        });
        address
    }

    fn get(address: std::net::SocketAddr) -> Result<Answer, ReadError> {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        read_answer(&mut stream, "GET")
    }

    #[test]
    fn answers_are_read_by_length_by_chunks_or_to_the_end() {
        let sized = get(serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello-and-more"));
        assert_eq!(sized.unwrap().body, b"hello");
        let chunked = get(serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        ));
        assert_eq!(chunked.unwrap().body, b"abcde");
        let to_end = get(serve_once(b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n<p>moved</p>"));
        let to_end = to_end.unwrap();
        assert_eq!((to_end.status, to_end.header("LOCATION")), (302, Some("/x")));
        assert_eq!(to_end.text().as_deref(), Some("moved"));
        assert!(matches!(get(serve_once(b"")), Err(ReadError::Closed)));
        assert!(matches!(get(serve_once(b"SSH-2.0-x\r\n\r\n")), Err(ReadError::Bad(_))));
        let cut = get(serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"));
        assert!(cut.unwrap_err().to_string().contains("3 of its 9 bytes"));
        let huge = get(serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n"));
        assert!(huge.unwrap_err().to_string().contains("larger than 1 MiB"));
    }

    #[test]
    fn a_page_says_its_first_paragraph_without_markup() {
        let answer = Answer {
            status: 404,
            headers: Vec::new(),
            body: b"<title>Unknown</title><h1>x</h1><p>No <code>CODE</code>\nhere.</p>".to_vec(),
        };
        assert_eq!(answer.text().as_deref(), Some("No CODE here."));
    }
}
