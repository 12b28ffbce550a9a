//! AWS Signature Version 4: the signature of a request in its `Authorization` header, or in its
//! query (a presigned URL), as STS AssumeRole and an EKS token need (docs/aws-contracts.md §9).
//!
//! Written here rather than taken from the `aws-sigv4` crate: that crate brings 59 crates and
//! about 300 KB for these two functions (measured in docs/ARCHITECTURE.md §9). This code is checked against
//! AWS's published test-suite signatures and against botocore's signer.
//!
//! Paths are given decoded and encoded once here (`/` kept), names and values of the query and
//! the form too, each byte outside `A-Z a-z 0-9 - _ . ~` as `%XX`.

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// The algorithm's name, in the header and the string to sign.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The credentials a request is signed with.
pub struct Keys<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// Sent as `X-Amz-Security-Token` (signed) when the credentials are temporary.
    pub session_token: Option<&'a str>,
}

/// What a signature is for: where and when.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub time: Timestamp,
}

/// A request to sign. `host` is the `Host` header (with a port that is not the scheme's
/// default); `path` is decoded; `query` and `headers` in any order.
pub struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// The headers to add to `request` so that it is signed: `X-Amz-Date`, `X-Amz-Security-Token`
/// when there is a session token, and `Authorization`. Every header of `request` and `Host`
/// are signed.
pub fn sign(request: &Request<'_>, keys: &Keys<'_>, scope: Scope<'_>) -> Vec<(String, String)> {
    let amz_date = amz_date(scope.time);
    let mut added = vec![("X-Amz-Date".to_owned(), amz_date.clone())];
    if let Some(token) = keys.session_token {
        added.push(("X-Amz-Security-Token".to_owned(), token.to_owned()));
    }
    let mut headers = request.headers.clone();
    headers.extend(added.iter().cloned());
    let (signed_headers, canonical_headers) = canonical_headers(request.host, &headers);
    let canonical = canonical_request(
        request.method,
        request.path,
        &canonical_query(&request.query),
        &canonical_headers,
        &signed_headers,
        &hex_sha256(request.body),
    );
    let signature = signature(keys.secret_access_key, scope, &amz_date, &canonical);
    added.push((
        "Authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={}/{}, SignedHeaders={signed_headers}, Signature={signature}",
            keys.access_key_id,
            credential_scope(scope)
        ),
    ));
    added
}

/// The query string of `request` presigned for `expires_secs` seconds: its own parameters, the
/// `X-Amz-*` ones (the session token among them, signed) and `X-Amz-Signature` last. The
/// request's headers and `Host` are signed; the payload is `request.body` (empty for a GET).
pub fn presign(
    request: &Request<'_>,
    keys: &Keys<'_>,
    scope: Scope<'_>,
    expires_secs: u64,
) -> String {
    let amz_date = amz_date(scope.time);
    let (signed_headers, canonical_headers) = canonical_headers(request.host, &request.headers);
    let mut query = request.query.clone();
    query.extend([
        ("X-Amz-Algorithm".to_owned(), ALGORITHM.to_owned()),
        (
            "X-Amz-Credential".to_owned(),
            format!("{}/{}", keys.access_key_id, credential_scope(scope)),
        ),
        ("X-Amz-Date".to_owned(), amz_date.clone()),
        ("X-Amz-Expires".to_owned(), expires_secs.to_string()),
        ("X-Amz-SignedHeaders".to_owned(), signed_headers.clone()),
    ]);
    if let Some(token) = keys.session_token {
        query.push(("X-Amz-Security-Token".to_owned(), token.to_owned()));
    }
    let canonical = canonical_request(
        request.method,
        request.path,
        &canonical_query(&query),
        &canonical_headers,
        &signed_headers,
        &hex_sha256(request.body),
    );
    let signature = signature(keys.secret_access_key, scope, &amz_date, &canonical);
    // The order a reader expects: the request's own parameters, then ours as added.
    let mut text: Vec<String> =
        query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    text.push(format!("X-Amz-Signature={signature}"));
    text.join("&")
}

/// `name=value&…` of a form body (`application/x-www-form-urlencoded`), encoded as the
/// signature encodes (a space as `%20`).
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// `20150830T123600Z`.
fn amz_date(time: Timestamp) -> String {
    time.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn credential_scope(scope: Scope<'_>) -> String {
    format!("{}/{}/{}/aws4_request", scope.time.strftime("%Y%m%d"), scope.region, scope.service)
}

fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let path = if path.is_empty() { "/".to_owned() } else { encode_path(path) };
    format!("{method}\n{path}\n{query}\n{headers}\n{signed_headers}\n{payload_hash}")
}

/// Names and values encoded, sorted by name then value, joined with `&`.
fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The signed header names (`a;b;c`) and the canonical header lines (`name:value\n` each),
/// `host` among them: names lowercase and sorted, values trimmed with inner runs of spaces made
/// one, values of one name joined with `,`.
fn canonical_headers(host: &str, headers: &[(String, String)]) -> (String, String) {
    let mut all: Vec<(String, String)> = vec![("host".to_owned(), host.to_owned())];
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if name == "host" {
            continue;
        }
        all.push((name, value.split_whitespace().collect::<Vec<_>>().join(" ")));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in all {
        match merged.last_mut() {
            Some((last, values)) if *last == name => {
                values.push(',');
                values.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let signed = merged.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let lines = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect::<String>();
    (signed, lines)
}

fn signature(secret: &str, scope: Scope<'_>, amz_date: &str, canonical: &str) -> String {
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        credential_scope(scope),
        hex_sha256(canonical.as_bytes())
    );
    hex(&hmac(&signing_key(secret, scope), string_to_sign.as_bytes()))
}

/// The key of one day, region and service.
fn signing_key(secret: &str, scope: Scope<'_>) -> Vec<u8> {
    let date = scope.time.strftime("%Y%m%d").to_string();
    let key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let key = hmac(&key, scope.region.as_bytes());
    let key = hmac(&key, scope.service.as_bytes());
    hmac(&key, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each byte outside `A-Z a-z 0-9 - _ . ~` as `%XX` (uppercase).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// [`encode`] for each segment of a path, its `/` kept.
fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys and time of AWS's published SigV4 test suite.
    const SUITE_KEYS: Keys<'static> = Keys {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: None,
    };

    fn suite_scope() -> Scope<'static> {
        Scope {
            region: "us-east-1",
            service: "service",
            time: "2015-08-30T12:36:00Z".parse().unwrap(),
        }
    }

    fn suite_request<'a>(method: &'a str, path: &'a str, query: &[(&str, &str)]) -> Request<'a> {
        Request {
            method,
            host: "example.amazonaws.com",
            path,
            query: query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            headers: Vec::new(),
            body: b"",
        }
    }

    fn authorization(added: &[(String, String)]) -> &str {
        &added.iter().find(|(n, _)| n == "Authorization").expect("signed").1
    }

    #[test]
    fn the_published_test_suite_signatures() {
        let prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=";
        let cases = [
            (
                "get-vanilla",
                suite_request("GET", "/", &[]),
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                "get-vanilla-query-order-key-case",
                suite_request("GET", "/", &[("Param2", "value2"), ("Param1", "value1")]),
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "post-vanilla",
                suite_request("POST", "/", &[]),
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            (
                "get-utf8",
                suite_request("GET", "/ሴ", &[]),
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
        ];
        for (name, request, expected) in cases {
            let added = sign(&request, &SUITE_KEYS, suite_scope());
            assert_eq!(authorization(&added), format!("{prefix}{expected}"), "{name}");
            assert_eq!(added[0], ("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()));
        }
    }

    #[test]
    fn the_published_signing_key() {
        assert_eq!(
            hex(&signing_key(
                SUITE_KEYS.secret_access_key,
                Scope {
                    region: "us-east-1",
                    service: "service",
                    time: "2015-08-30T00:00:00Z".parse().unwrap()
                }
            )),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
        );
    }

    /// Temporary credentials of the two tests below, and the time botocore 1.43.11 signed at.
    const TEMPORARY: Keys<'static> = Keys {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: Some("IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=chars"),
    };

    fn botocore_time() -> Timestamp {
        "2026-12-07T01:02:03Z".parse().unwrap()
    }

    #[test]
    fn an_sts_assume_role_post_signs_as_botocore_does() {
        let body = form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/Deploy"),
            ("RoleSessionName", "botocore-session-1765069323"),
        ]);
        assert_eq!(
            body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FDeploy&RoleSessionName=botocore-session-1765069323"
        );
        let request = Request {
            method: "POST",
            host: "sts.eu-west-1.amazonaws.com",
            path: "/",
            query: Vec::new(),
            headers: vec![(
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            )],
            body: body.as_bytes(),
        };
        let scope = Scope { region: "eu-west-1", service: "sts", time: botocore_time() };
        let added = sign(&request, &TEMPORARY, scope);
        assert_eq!(
            added,
            [
                ("X-Amz-Date".to_owned(), "20261207T010203Z".to_owned()),
                ("X-Amz-Security-Token".to_owned(), "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=chars".to_owned()),
                (
                    "Authorization".to_owned(),
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=c1c709d38534d8a1dd1c48bee3e0e639c112af0aeb4f0d7075b5be55877317ce".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_presigned_get_caller_identity_for_eks_matches_botocore() {
        let request = Request {
            method: "GET",
            host: "sts.us-west-2.amazonaws.com",
            path: "/",
            query: vec![
                ("Action".to_owned(), "GetCallerIdentity".to_owned()),
                ("Version".to_owned(), "2011-06-15".to_owned()),
            ],
            headers: vec![("x-k8s-aws-id".to_owned(), "demo".to_owned())],
            body: b"",
        };
        let scope = Scope { region: "us-west-2", service: "sts", time: botocore_time() };
        assert_eq!(
            presign(&request, &TEMPORARY, scope, 60),
            "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20261207T010203Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2FTOKEN%2Bwith%3Dchars&X-Amz-Signature=23e84501142629fbb46bbc440540f5b5ee099c84412fb1dea45d8b02dfa1af48"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_names_merged_in_order() {
        let headers = vec![
            ("My-Header1".to_owned(), "  value1   a  ".to_owned()),
            ("my-header1".to_owned(), "value2".to_owned()),
            ("Host".to_owned(), "ignored: the request's host is signed".to_owned()),
        ];
        let (signed, lines) = canonical_headers("example.amazonaws.com", &headers);
        assert_eq!(signed, "host;my-header1");
        assert_eq!(lines, "host:example.amazonaws.com\nmy-header1:value1 a,value2\n");
        assert_eq!(encode("a b+c/~é"), "a%20b%2Bc%2F~%C3%A9");
    }
}
