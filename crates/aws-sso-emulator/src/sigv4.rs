//! Checking AWS Signature Version 4, written here from the published algorithm rather than
//! shared with the clients' signer, so that a mistake in one is caught by the other.
//!
//! A request carries its signature either in the `Authorization` header (`X-Amz-Date` and
//! `X-Amz-Security-Token` beside it) or in its query (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token`,
//! `X-Amz-Signature`: a presigned URL). `presented` reads what the client claims; `signature`
//! recomputes what it should have sent with a given secret; `same` compares the two in constant
//! time. Which credentials exist, and whether they have expired, is the caller's business.

use sha2::{Digest, Sha256};

use crate::wire::{ApiRequest, percent_encode};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The credential scope: `<YYYYMMDD>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    fn parse(text: &str) -> Option<Scope> {
        let mut parts = text.split('/');
        let (date, region, service, terminator) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let valid = parts.next().is_none()
            && terminator == "aws4_request"
            && date.len() == 8
            && date.bytes().all(|b| b.is_ascii_digit())
            && !region.is_empty()
            && !service.is_empty();
        valid.then(|| Scope {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }

    fn text(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }
}

/// What a signed request claims about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub access_key_id: String,
    pub scope: Scope,
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`.
    pub date: String,
    /// Lowercase names, in the order listed.
    pub signed_headers: Vec<String>,
    /// Lowercase hex.
    pub signature: String,
    pub security_token: Option<String>,
    /// `X-Amz-Expires` of a presigned URL, in seconds; `None` for a signature in the header.
    pub expires: Option<u64>,
}

/// Why a request's signature cannot even be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm` in the query.
    Missing,
    /// An `Authorization` header that is not a complete SigV4 one, or no `X-Amz-Date`.
    Incomplete(String),
    /// A presigned query missing one of its parameters or with a malformed one.
    BadQuery(String),
}

/// Reads the signature of `request`, from its `Authorization` header or its query.
pub fn presented(request: &ApiRequest) -> Result<Presented, Unreadable> {
    if let Some(authorization) = request.header("authorization") {
        return from_header(request, authorization);
    }
    if request.query_param("X-Amz-Algorithm").is_some() {
        return from_query(request);
    }
    Err(Unreadable::Missing)
}

fn from_header(request: &ApiRequest, authorization: &str) -> Result<Presented, Unreadable> {
    let incomplete = |what: &str| Unreadable::Incomplete(what.to_owned());
    let Some(rest) = authorization.strip_prefix(ALGORITHM).filter(|r| r.starts_with(' ')) else {
        return Err(incomplete("Authorization header must start with AWS4-HMAC-SHA256"));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(value) = part.strip_prefix("Credential=") {
            credential = Some(value);
        } else if let Some(value) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(value);
        } else if let Some(value) = part.strip_prefix("Signature=") {
            signature = Some(value);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters",
        ));
    };
    let (access_key_id, scope) =
        split_credential(credential).ok_or_else(|| incomplete("Credential is malformed"))?;
    let date = request.header("x-amz-date").ok_or_else(|| {
        incomplete("Authorization header requires existence of the X-Amz-Date header")
    })?;
    Ok(Presented {
        access_key_id,
        scope,
        date: date.to_owned(),
        signed_headers: signed_headers.split(';').map(str::to_ascii_lowercase).collect(),
        signature: signature.to_ascii_lowercase(),
        security_token: request.header("x-amz-security-token").map(str::to_owned),
        expires: None,
    })
}

fn from_query(request: &ApiRequest) -> Result<Presented, Unreadable> {
    let param = |name: &str| {
        request
            .query_param(name)
            .ok_or_else(|| Unreadable::BadQuery(format!("the query lacks {name}")))
    };
    if param("X-Amz-Algorithm")? != ALGORITHM {
        return Err(Unreadable::BadQuery("X-Amz-Algorithm must be AWS4-HMAC-SHA256".to_owned()));
    }
    let (access_key_id, scope) = split_credential(param("X-Amz-Credential")?)
        .ok_or_else(|| Unreadable::BadQuery("X-Amz-Credential is malformed".to_owned()))?;
    let expires = param("X-Amz-Expires")?
        .parse::<u64>()
        .ok()
        .filter(|seconds| (1..=604_800).contains(seconds))
        .ok_or_else(|| {
            Unreadable::BadQuery(
                "X-Amz-Expires must be a number of seconds from 1 to 604800".into(),
            )
        })?;
    Ok(Presented {
        access_key_id,
        scope,
        date: param("X-Amz-Date")?.to_owned(),
        signed_headers: param("X-Amz-SignedHeaders")?
            .split(';')
            .map(str::to_ascii_lowercase)
            .collect(),
        signature: param("X-Amz-Signature")?.to_ascii_lowercase(),
        security_token: request.query_param("X-Amz-Security-Token").map(str::to_owned),
        expires: Some(expires),
    })
}

/// `AKID/<scope>` → the key id and the scope.
fn split_credential(credential: &str) -> Option<(String, Scope)> {
    let (key, scope) = credential.split_once('/')?;
    (!key.is_empty()).then_some(())?;
    Some((key.to_owned(), Scope::parse(scope)?))
}

/// The canonical request of `request` as `presented` signed it: method, path, sorted query
/// (without `X-Amz-Signature`), the signed headers, and the hash of the body.
pub fn canonical_request(request: &ApiRequest, presented: &Presented) -> String {
    // Services other than S3 sign the path encoded once more, as it appears on the wire.
    let path = request.path.split('/').map(percent_encode).collect::<Vec<_>>().join("/");
    let path = if path.is_empty() { "/".to_owned() } else { path };
    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .filter(|(name, _)| name != "X-Amz-Signature")
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(name, value)| format!("{name}={value}")).collect();
    let mut headers = String::new();
    for name in &presented.signed_headers {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{path}\n{}\n{headers}\n{}\n{}",
        request.method,
        query.join("&"),
        presented.signed_headers.join(";"),
        hex(&Sha256::digest(&request.body)),
    )
}

/// The string to sign for `canonical`.
pub fn string_to_sign(presented: &Presented, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        presented.date,
        presented.scope.text(),
        hex(&Sha256::digest(canonical.as_bytes()))
    )
}

/// The signature `request` should carry if it was signed with `secret`, lowercase hex.
pub fn signature(request: &ApiRequest, presented: &Presented, secret: &str) -> String {
    let canonical = canonical_request(request, presented);
    let scope = &presented.scope;
    let key = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    let key = hmac(&key, scope.region.as_bytes());
    let key = hmac(&key, scope.service.as_bytes());
    let key = hmac(&key, b"aws4_request");
    hex(&hmac(&key, string_to_sign(presented, &canonical).as_bytes()))
}

/// Whether two signatures are equal, in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Epoch ms of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
pub fn parse_amz_date(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let (year, month, day) = (digits_at(0..4)?, digits_at(4..6)?, digits_at(6..8)?);
    let (hour, minute, second) = (digits_at(9..11)?, digits_at(11..13)?, digits_at(13..15)?);
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    if !valid || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000)
}

/// Days since 1970-01-01 of a date from 1970 on (H. Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `(year, month, day)` of a day counted from 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// An epoch ms as ISO 8601 in UTC to the second, `2026-12-07T03:00:00Z`, as STS writes times.
pub fn iso8601(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let second_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The `YYYYMMDD` of an epoch ms, as a credential scope names its day.
#[cfg(test)]
pub fn scope_date(epoch_ms: u64) -> String {
    let (year, month, day) = civil_from_days(epoch_ms / 1000 / 86_400);
    format!("{year:04}{month:02}{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_query;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// `get-vanilla` of the published SigV4 test suite.
    fn get_vanilla(signature: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            path: "/".into(),
            headers: vec![
                ("host".into(), "example.amazonaws.com".into()),
                ("x-amz-date".into(), "20150830T123600Z".into()),
                (
                    "authorization".into(),
                    format!(
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}"
                    ),
                ),
            ],
            ..Default::default()
        }
    }

    const VANILLA: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    #[test]
    fn the_published_get_vanilla_signature_is_recomputed() {
        let request = get_vanilla(VANILLA);
        let presented = presented(&request).unwrap();
        assert_eq!(presented.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            presented.scope,
            Scope {
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "service".into()
            }
        );
        assert_eq!(presented.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(presented.security_token, None);
        assert_eq!(
            canonical_request(&request, &presented),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            string_to_sign(&presented, &canonical_request(&request, &presented)),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        let expected = signature(&request, &presented, SECRET);
        assert_eq!(expected, VANILLA);
        assert!(same(&expected, &presented.signature));
    }

    #[test]
    fn a_changed_secret_header_or_method_changes_the_signature() {
        let request = get_vanilla(VANILLA);
        let presented = presented(&request).unwrap();
        assert_ne!(signature(&request, &presented, "wrong"), VANILLA);
        let mut moved = request.clone();
        moved.headers[0].1 = "example.amazonaws.com:8080".into();
        assert_ne!(signature(&moved, &presented, SECRET), VANILLA);
        let posted = ApiRequest { method: "POST".into(), ..request.clone() };
        assert_ne!(signature(&posted, &presented, SECRET), VANILLA);
        // A header the client did not sign may change freely.
        let mut extra = request;
        extra.headers.push(("user-agent".into(), "anything".into()));
        assert_eq!(signature(&extra, &presented, SECRET), VANILLA);
        assert!(!same(VANILLA, &VANILLA[..63]));
        assert!(!same(VANILLA, &VANILLA.replace('5', "6")));
    }

    #[test]
    fn the_published_get_vanilla_query_order_key_case_signature_is_recomputed() {
        // `get-vanilla-query-order-key-case`: parameters sorted by name, case-sensitively.
        let mut request =
            get_vanilla("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
        request.query = parse_query("Param2=value2&Param1=value1");
        let presented = presented(&request).unwrap();
        assert!(
            canonical_request(&request, &presented)
                .starts_with("GET\n/\nParam1=value1&Param2=value2\n")
        );
        assert_eq!(signature(&request, &presented, SECRET), presented.signature);
    }

    #[test]
    fn a_presigned_query_is_read_and_its_signature_left_out_of_the_canonical_query() {
        let query = "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=ASIAKEY%2F20261207%2Fus-east-1%2Fsts%2Faws4_request\
            &X-Amz-Date=20261207T020000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
            &X-Amz-Security-Token=to%2Bken&X-Amz-Signature=ABCDEF";
        let request = ApiRequest {
            method: "GET".into(),
            path: "/".into(),
            query: parse_query(query),
            headers: vec![("host".into(), "127.0.0.1:5".into())],
            ..Default::default()
        };
        let presented = presented(&request).unwrap();
        assert_eq!(presented.access_key_id, "ASIAKEY");
        assert_eq!(presented.scope.service, "sts");
        assert_eq!(presented.expires, Some(60));
        assert_eq!(presented.security_token.as_deref(), Some("to+ken"));
        assert_eq!(presented.signature, "abcdef");
        let canonical = canonical_request(&request, &presented);
        assert!(!canonical.contains("X-Amz-Signature"), "{canonical}");
        assert!(canonical.contains("&X-Amz-Security-Token=to%2Bken"), "{canonical}");
        assert!(
            canonical.starts_with(
                "GET\n/\nAction=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm="
            )
        );

        let mut no_expiry = request.clone();
        no_expiry.query.retain(|(name, _)| name != "X-Amz-Expires");
        assert!(matches!(super::presented(&no_expiry), Err(Unreadable::BadQuery(_))));
    }

    #[test]
    fn unsigned_and_half_signed_requests_are_told_apart() {
        let bare = ApiRequest { method: "POST".into(), path: "/".into(), ..Default::default() };
        assert_eq!(presented(&bare), Err(Unreadable::Missing));
        let mut half = get_vanilla(VANILLA);
        half.headers[2].1 =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
                .into();
        assert!(matches!(presented(&half), Err(Unreadable::Incomplete(_))));
        let mut bad_scope = get_vanilla(VANILLA);
        bad_scope.headers[2].1 = bad_scope.headers[2].1.replace("/aws4_request", "/aws5_request");
        assert!(matches!(presented(&bad_scope), Err(Unreadable::Incomplete(_))));
        let mut undated = get_vanilla(VANILLA);
        undated.headers.remove(1);
        assert!(matches!(presented(&undated), Err(Unreadable::Incomplete(_))));
    }

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160_000));
        assert_eq!(parse_amz_date("20240229T235959Z"), Some(1_709_251_199_000));
        for bad in
            ["20150830T123600", "2015-08-30T12:36:00Z", "20151330T123600Z", "2015083xT123600Z"]
        {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        assert_eq!(iso8601(1_440_938_160_999), "2015-08-30T12:36:00Z");
        assert_eq!(iso8601(1_709_251_199_000), "2024-02-29T23:59:59Z");
        assert_eq!(scope_date(1_709_251_199_000), "20240229");
        for day in [0u64, 59, 60, 365, 10_956, 20_000, 20_794] {
            let (year, month, date) = civil_from_days(day);
            assert_eq!(days_from_civil(year, month, date), day);
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// Temporary keys botocore 1.43.11 signed the next two requests with, at 2026-12-07T01:02:03Z.
    const BOTOCORE_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=chars";

    #[test]
    fn an_assume_role_post_signed_by_botocore_checks_out() {
        let request = ApiRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![
                ("host".into(), "sts.eu-west-1.amazonaws.com".into()),
                ("content-type".into(), "application/x-www-form-urlencoded; charset=utf-8".into()),
                ("x-amz-date".into(), "20261207T010203Z".into()),
                ("x-amz-security-token".into(), BOTOCORE_TOKEN.into()),
                (
                    "authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/eu-west-1/sts/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
                     Signature=c1c709d38534d8a1dd1c48bee3e0e639c112af0aeb4f0d7075b5be55877317ce"
                        .into(),
                ),
                ("user-agent".into(), "Botocore/1.43.11".into()),
            ],
            body: b"Action=AssumeRole&Version=2011-06-15\
                &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FDeploy\
                &RoleSessionName=botocore-session-1765069323"
                .to_vec(),
            ..Default::default()
        };
        let presented = presented(&request).unwrap();
        assert_eq!(presented.security_token.as_deref(), Some(BOTOCORE_TOKEN));
        assert_eq!(signature(&request, &presented, SECRET), presented.signature);
    }

    #[test]
    fn an_eks_style_presigned_get_signed_by_botocore_checks_out() {
        let query = "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Fus-west-2%2Fsts%2Faws4_request\
            &X-Amz-Date=20261207T010203Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
            &X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2FTOKEN%2Bwith%3Dchars\
            &X-Amz-Signature=23e84501142629fbb46bbc440540f5b5ee099c84412fb1dea45d8b02dfa1af48";
        let mut request = ApiRequest {
            method: "GET".into(),
            path: "/".into(),
            query: parse_query(query),
            headers: vec![
                ("host".into(), "sts.us-west-2.amazonaws.com".into()),
                ("x-k8s-aws-id".into(), "demo".into()),
            ],
            ..Default::default()
        };
        let presented = presented(&request).unwrap();
        assert_eq!(presented.security_token.as_deref(), Some(BOTOCORE_TOKEN));
        assert_eq!(presented.expires, Some(60));
        assert_eq!(signature(&request, &presented, SECRET), presented.signature);
        request.headers[1].1 = "other".into();
        assert_ne!(signature(&request, &presented, SECRET), presented.signature);
    }
}
