//! `aws-sso-emulator browse URL`: a stand-in for a person with a browser, for tests and the demo.
//!
//! Set `BROWSER="aws-sso-emulator browse"` and a login flow that "opens the browser" gets its
//! URL fetched, and the emulator's redirects followed to the tool's loopback listener, as if a
//! person had clicked "Allow". It speaks plain HTTP/1.1 to loopback addresses only: it is not a
//! browser, and it never reaches beyond this machine.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, bail};

const MAX_REDIRECTS: usize = 5;

pub fn run(url: &str) -> anyhow::Result<()> {
    let mut url = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let (status, location, _) = request("GET", &url)?;
        match (status, location) {
            (300..=399, Some(next)) => url = next,
            (200..=299, _) => return Ok(()),
            (status, _) => bail!("GET {url} answered {status}"),
        }
    }
    bail!("more than {MAX_REDIRECTS} redirects from {url}")
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
        (200, _, body) => Ok(body),
        (status, _, body) => bail!("{method} {target} answered {status}: {body}"),
    }
}

/// One request with an empty body; returns the status, the `Location` header and the body.
fn request(method: &str, url: &str) -> anyhow::Result<(u16, Option<String>, String)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("only http:// URLs on loopback are followed, not {url}"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        bail!("refusing to follow {url}: only loopback addresses are followed");
    }
    let mut stream =
        TcpStream::connect(authority).with_context(|| format!("could not connect to {url}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: aws-sso-emulator-browse\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).with_context(|| format!("no answer from {url}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("not an HTTP answer from {url}"))?;
    let location = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case("location").then(|| value.trim().to_owned())
    });
    Ok((status, location, body.to_owned()))
}
