//! STS on the emulator's port (`AWS_ENDPOINT_URL_STS`): AssumeRole and GetCallerIdentity in the
//! query protocol (`Action=…&Version=2011-06-15` in a form body or the query, XML answers), for
//! the credentials this emulator issued, from the portal or from an earlier AssumeRole, so a
//! chain of roles can be walked hop by hop.
//!
//! Every request must be signed with Signature Version 4 (`sigv4`) by credentials the emulator
//! issued, with their session token, for the service `sts`, within 15 minutes of the emulator's
//! clock (a presigned URL: within its `X-Amz-Expires`), before the credentials expire by that
//! clock. Refusals carry the service's codes and statuses: `MissingAuthenticationToken`,
//! `IncompleteSignature`, `InvalidClientTokenId`, `ExpiredToken`, `SignatureDoesNotMatch`,
//! `ValidationError`, `AccessDenied`, `InvalidAction`; the faults of `--sts-fault` add
//! `Throttling` and `InternalFailure`. No message names a secret key or a session token.

use sha2::{Digest, Sha256};

use crate::portal::{SECRET_KEY_CHARS, UPPERCASE_AND_DIGITS};
use crate::sigv4::{self, Presented, Unreadable};
use crate::state::{Identity, IssuedCredentials, State, fill_random, random_chars, random_token};
use crate::wire::{ApiRequest, ApiResponse, parse_query};

pub const VERSION: &str = "2011-06-15";
const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// How far a signed request's time may be from the service's clock.
const MAX_SKEW_MS: u64 = 15 * 60 * 1000;
const DEFAULT_DURATION_SECONDS: u64 = 3600;
/// A role session assumed with role credentials (role chaining) lasts at most an hour, whatever
/// the role's maximum; every session here starts from role credentials.
const CHAINED_MAX_SECONDS: u64 = 3600;

/// The error codes STS answers with, and their statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsErrorKind {
    MissingAuthenticationToken,
    IncompleteSignature,
    InvalidClientTokenId,
    ExpiredToken,
    SignatureDoesNotMatch,
    ValidationError,
    AccessDenied,
    InvalidAction,
    Throttling,
    InternalFailure,
}

impl StsErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            StsErrorKind::MissingAuthenticationToken => "MissingAuthenticationToken",
            StsErrorKind::IncompleteSignature => "IncompleteSignature",
            StsErrorKind::InvalidClientTokenId => "InvalidClientTokenId",
            StsErrorKind::ExpiredToken => "ExpiredToken",
            StsErrorKind::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            StsErrorKind::ValidationError => "ValidationError",
            StsErrorKind::AccessDenied => "AccessDenied",
            StsErrorKind::InvalidAction => "InvalidAction",
            StsErrorKind::Throttling => "Throttling",
            StsErrorKind::InternalFailure => "InternalFailure",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            StsErrorKind::MissingAuthenticationToken
            | StsErrorKind::InvalidClientTokenId
            | StsErrorKind::SignatureDoesNotMatch
            | StsErrorKind::AccessDenied => 403,
            StsErrorKind::InternalFailure => 500,
            _ => 400,
        }
    }
}

/// An STS error: `<ErrorResponse>` with the code, a message and the request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    pub kind: StsErrorKind,
    pub message: String,
}

impl StsError {
    pub fn new(kind: StsErrorKind, message: impl Into<String>) -> StsError {
        StsError { kind, message: message.into() }
    }

    pub fn into_response(self) -> ApiResponse {
        let request_id = request_id();
        let sender = if self.kind.status() >= 500 { "Receiver" } else { "Sender" };
        let body = format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{sender}</Type>\n    \
             <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
             <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
            self.kind.code(),
            escape(&self.message)
        );
        let mut response = xml(self.kind.status(), body, request_id);
        response.error_type = Some(self.kind.code());
        response
    }
}

fn validation(message: impl Into<String>) -> StsError {
    StsError::new(StsErrorKind::ValidationError, message)
}

/// A request id in the UUID layout, the same in the header and the body.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn xml(status: u16, body: String, request_id: String) -> ApiResponse {
    ApiResponse {
        status,
        headers: vec![("content-type", "text/xml".to_owned()), ("x-amzn-RequestId", request_id)],
        body: body.into_bytes(),
        error_type: None,
    }
}

/// Escapes text for an XML element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The parameters of a query-protocol request: those of the query string, then those of a form
/// body.
fn params(request: &ApiRequest) -> Vec<(String, String)> {
    let mut params = request.query.clone();
    let form = request
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if form || (request.method == "POST" && request.header("content-type").is_none()) {
        params.extend(parse_query(&String::from_utf8_lossy(&request.body)));
    }
    params
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// The `Action` of a request to `/`, from its query or its form body.
pub fn action(request: &ApiRequest) -> Option<String> {
    param(&params(request), "Action").map(str::to_owned)
}

/// Whether the request names the API version this STS has (`Version=2011-06-15`).
pub fn known_version(request: &ApiRequest) -> bool {
    param(&params(request), "Version") == Some(VERSION)
}

/// What an STS fault (`--sts-fault`) answers instead of the service.
pub fn throttled() -> ApiResponse {
    StsError::new(StsErrorKind::Throttling, "Rate exceeded").into_response()
}

pub fn internal_failure() -> ApiResponse {
    StsError::new(StsErrorKind::InternalFailure, "An internal error occurred. Please try again.")
        .into_response()
}

/// An action STS does not have, or none.
pub fn unknown_action(request: &ApiRequest) -> ApiResponse {
    let params = params(request);
    let message = match (param(&params, "Action"), param(&params, "Version")) {
        (None, _) => "The request must contain the parameter Action".to_owned(),
        (Some(_), None) => "The request must contain the parameter Version".to_owned(),
        (Some(action), Some(version)) => {
            format!("Could not find operation {action} for version {version}")
        }
    };
    StsError::new(StsErrorKind::InvalidAction, message).into_response()
}

/// The credentials that signed `request`, once the signature, the session token, the scope and
/// the times check out at `now` (epoch ms, the emulator's clock).
fn authenticate<'s>(
    state: &'s State,
    request: &ApiRequest,
    now: u64,
) -> Result<&'s IssuedCredentials, StsError> {
    let presented = sigv4::presented(request).map_err(|unreadable| match unreadable {
        Unreadable::Missing => StsError::new(
            StsErrorKind::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        ),
        Unreadable::Incomplete(message) | Unreadable::BadQuery(message) => {
            StsError::new(StsErrorKind::IncompleteSignature, message)
        }
    })?;
    let invalid = || {
        StsError::new(
            StsErrorKind::InvalidClientTokenId,
            "The security token included in the request is invalid.",
        )
    };
    let issued = state.role_credentials.get(&presented.access_key_id).ok_or_else(invalid)?;
    let token_matches = presented
        .security_token
        .as_deref()
        .is_some_and(|token| sigv4::same(token, &issued.session_token));
    if !token_matches {
        return Err(invalid());
    }
    if issued.expires_at <= now {
        return Err(StsError::new(
            StsErrorKind::ExpiredToken,
            "The security token included in the request is expired",
        ));
    }
    check_scope(&presented)?;
    let expected = sigv4::signature(request, &presented, &issued.secret_access_key);
    if !sigv4::same(&expected, &presented.signature) {
        return Err(StsError::new(
            StsErrorKind::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        ));
    }
    check_time(&presented, now)?;
    Ok(issued)
}

fn mismatch(message: String) -> StsError {
    StsError::new(StsErrorKind::SignatureDoesNotMatch, message)
}

/// The scope names `sts` and the day of `X-Amz-Date`, and `host` is signed.
fn check_scope(presented: &Presented) -> Result<(), StsError> {
    if presented.scope.service != "sts" {
        return Err(mismatch(format!(
            "Credential should be scoped to correct service: 'sts'. (it names '{}')",
            presented.scope.service
        )));
    }
    if sigv4::parse_amz_date(&presented.date).is_none() {
        return Err(StsError::new(
            StsErrorKind::IncompleteSignature,
            format!("X-Amz-Date '{}' is not of the form YYYYMMDDTHHMMSSZ", presented.date),
        ));
    }
    if !presented.date.starts_with(&presented.scope.date) {
        return Err(mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{}', from '{}'.",
            presented.scope.date,
            &presented.date[..8],
            presented.date
        )));
    }
    if !presented.signed_headers.iter().any(|name| name == "host") {
        return Err(StsError::new(
            StsErrorKind::IncompleteSignature,
            "Signature Version 4 requires the host header to be signed",
        ));
    }
    Ok(())
}

/// A header signature is good for 15 minutes either side of the clock; a presigned URL from its
/// date to the end of `X-Amz-Expires`.
fn check_time(presented: &Presented, now: u64) -> Result<(), StsError> {
    let signed_at = sigv4::parse_amz_date(&presented.date).unwrap_or_default();
    let stamp = |ms: u64| sigv4::iso8601(ms).replace(['-', ':'], "");
    if signed_at > now + MAX_SKEW_MS {
        return Err(mismatch(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            presented.date,
            stamp(now + MAX_SKEW_MS),
            stamp(now)
        )));
    }
    match presented.expires {
        Some(seconds) if now > signed_at + seconds * 1000 => Err(mismatch(format!(
            "Signature expired: {} is now earlier than {} ({} - {seconds} sec.)",
            stamp(signed_at + seconds * 1000),
            stamp(now),
            stamp(now)
        ))),
        None if signed_at + MAX_SKEW_MS < now => Err(mismatch(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            presented.date,
            stamp(now - MAX_SKEW_MS),
            stamp(now)
        ))),
        _ => Ok(()),
    }
}

/// The role id of a role: `AROA` and 17 letters and digits, the same for the same role.
pub fn role_id(role: &str) -> String {
    let digest = Sha256::digest(role.as_bytes());
    let letters: String = digest[..17]
        .iter()
        .map(|b| char::from(UPPERCASE_AND_DIGITS[usize::from(*b) % UPPERCASE_AND_DIGITS.len()]))
        .collect();
    format!("AROA{letters}")
}

/// A role ARN taken apart: partition, account, and the role's name (its path left out).
struct RoleArn<'a> {
    partition: &'a str,
    account: &'a str,
    name: &'a str,
}

fn name_chars(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

fn parse_role_arn(arn: &str) -> Option<RoleArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let partition_ok = partition.starts_with("aws")
        && partition.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let path = resource.strip_prefix("role/")?;
    let segments: Vec<&str> = path.split('/').collect();
    let name = *segments.last()?;
    let path_ok = segments.iter().all(|segment| !segment.is_empty() && name_chars(segment));
    let valid = prefix == "arn"
        && partition_ok
        && service == "iam"
        && region.is_empty()
        && account_ok
        && path_ok
        && (1..=64).contains(&name.len());
    valid.then_some(RoleArn { partition, account, name })
}

fn member_error(value: &str, member: &str, constraint: &str) -> StsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: \
         {constraint}"
    ))
}

fn required<'a>(
    params: &'a [(String, String)],
    name: &str,
    member: &str,
) -> Result<&'a str, StsError> {
    param(params, name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: \
             Member must not be null"
        ))
    })
}

/// `Action=AssumeRole`: new credentials for the role, signed for by issued credentials.
pub fn assume_role(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    match assume_role_inner(state, request, now) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn assume_role_inner(
    state: &mut State,
    request: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, StsError> {
    let caller = authenticate(state, request, now)?.identity.clone();
    let params = params(request);
    let role_arn = required(&params, "RoleArn", "roleArn")?;
    let session_name = required(&params, "RoleSessionName", "roleSessionName")?;
    if !(20..=2048).contains(&role_arn.len()) {
        return Err(member_error(
            role_arn,
            "roleArn",
            "Member must have length between 20 and 2048",
        ));
    }
    let Some(role) = parse_role_arn(role_arn) else {
        return Err(validation(format!(
            "{role_arn} is invalid: a role ARN is \
             arn:<partition>:iam::<12-digit account>:role/<path/><name>"
        )));
    };
    if !(2..=64).contains(&session_name.chars().count()) {
        return Err(member_error(
            session_name,
            "roleSessionName",
            "Member must have length between 2 and 64",
        ));
    }
    if !name_chars(session_name) {
        return Err(member_error(
            session_name,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    let duration = match param(&params, "DurationSeconds") {
        None => DEFAULT_DURATION_SECONDS,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds < 900 => {
                return Err(member_error(
                    text,
                    "durationSeconds",
                    "Member must have value greater than or equal to 900",
                ));
            }
            Ok(seconds) if seconds > 43_200 => {
                return Err(member_error(
                    text,
                    "durationSeconds",
                    "Member must have value less than or equal to 43200",
                ));
            }
            Ok(seconds) => seconds,
            Err(_) => return Err(validation(format!("DurationSeconds '{text}' is not a number"))),
        },
    };
    if let Some(external_id) = param(&params, "ExternalId") {
        let chars_ok =
            external_id.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
        if !(2..=1224).contains(&external_id.len()) || !chars_ok {
            return Err(member_error(
                external_id,
                "externalId",
                "Member must have length between 2 and 1224 and satisfy regular expression \
                 pattern: [\\w+=,.@:\\/-]*",
            ));
        }
    }
    if state.settings.deny_assume_role.iter().any(|denied| denied == role_arn) {
        return Err(StsError::new(
            StsErrorKind::AccessDenied,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        ));
    }
    if duration > CHAINED_MAX_SECONDS {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by \
             role chaining.",
        ));
    }

    // Whole seconds, as the service hands them out.
    let expires_at = (now / 1000 + duration) * 1000;
    let access_key_id = format!("ASIA{}", random_chars(UPPERCASE_AND_DIGITS, 16));
    let role_id = role_id(&format!("{}/{}", role.account, role.name));
    let identity = Identity {
        partition: role.partition.to_owned(),
        account: role.account.to_owned(),
        user_id: format!("{role_id}:{session_name}"),
        arn: format!(
            "arn:{}:sts::{}:assumed-role/{}/{session_name}",
            role.partition, role.account, role.name
        ),
    };
    let issued = IssuedCredentials {
        secret_access_key: random_chars(SECRET_KEY_CHARS, 40),
        session_token: format!("FwoGZXIvYXdzE{}", random_token(300)),
        expires_at,
        identity: identity.clone(),
    };
    let request_id = request_id();
    let body = format!(
        "<AssumeRoleResponse xmlns=\"{NAMESPACE}\">\n  <AssumeRoleResult>\n    <Credentials>\n      \
         <AccessKeyId>{access_key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{}</SecretAccessKey>\n      \
         <SessionToken>{}</SessionToken>\n      \
         <Expiration>{}</Expiration>\n    </Credentials>\n    <AssumedRoleUser>\n      \
         <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n  \
         </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  \
         </ResponseMetadata>\n</AssumeRoleResponse>\n",
        escape(&issued.secret_access_key),
        escape(&issued.session_token),
        sigv4::iso8601(expires_at),
        escape(&identity.user_id),
        escape(&identity.arn),
    );
    state.remember_credentials(access_key_id, issued, now);
    Ok(xml(200, body, request_id))
}

/// `Action=GetCallerIdentity`: whose credentials signed the request (POST, or a presigned GET).
pub fn get_caller_identity(state: &mut State, request: &ApiRequest, now: u64) -> ApiResponse {
    let identity = match authenticate(state, request, now) {
        Ok(issued) => issued.identity.clone(),
        Err(error) => return error.into_response(),
    };
    let request_id = request_id();
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    \
         <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  \
         </GetCallerIdentityResult>\n  <ResponseMetadata>\n    \
         <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
         </GetCallerIdentityResponse>\n",
        escape(&identity.arn),
        escape(&identity.user_id),
        escape(&identity.account),
    );
    xml(200, body, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Directory, Settings};
    use crate::wire::percent_encode;

    /// 2026-12-07T02:00:00Z.
    const NOW: u64 = 1_796_608_800_000;
    const MINUTE: u64 = 60_000;
    const DENIED: &str = "arn:aws:iam::123456789012:role/denied";

    struct Keys {
        id: String,
        secret: String,
        token: String,
    }

    fn state_with_source() -> (State, Keys) {
        let settings =
            Settings { deny_assume_role: vec![DENIED.to_owned()], ..Settings::default() };
        let mut state = State::new(settings, Directory::generate(1, 1).unwrap());
        let keys = Keys {
            id: "ASIASOURCE0000000001".to_owned(),
            secret: "source/secret+key".to_owned(),
            token: "source-token".to_owned(),
        };
        let issued = IssuedCredentials {
            secret_access_key: keys.secret.clone(),
            session_token: keys.token.clone(),
            expires_at: NOW + 60 * MINUTE,
            identity: Identity {
                partition: "aws".into(),
                account: "100000000001".into(),
                user_id: "AROASOURCE:user".into(),
                arn: "arn:aws:sts::100000000001:assumed-role/AWSReservedSSO_Admin_0/user".into(),
            },
        };
        state.remember_credentials(keys.id.clone(), issued, NOW);
        (state, keys)
    }

    fn amz_date(at: u64) -> String {
        sigv4::iso8601(at).replace(['-', ':'], "")
    }

    /// A POST of the form `body`, signed in its headers with `keys` at `at` for `service`.
    fn signed_post(body: &str, keys: &Keys, at: u64, service: &str) -> ApiRequest {
        let mut request = ApiRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![
                ("host".into(), "127.0.0.1:4000".into()),
                ("content-type".into(), "application/x-www-form-urlencoded; charset=utf-8".into()),
                ("x-amz-date".into(), amz_date(at)),
                ("x-amz-security-token".into(), keys.token.clone()),
            ],
            body: body.as_bytes().to_vec(),
            ..Default::default()
        };
        let scope = format!("{}/us-east-1/{service}/aws4_request", sigv4::scope_date(at));
        let authorization = |signature: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature={signature}",
                keys.id
            )
        };
        request.headers.push(("authorization".into(), authorization("0")));
        let presented = sigv4::presented(&request).unwrap();
        let signature = sigv4::signature(&request, &presented, &keys.secret);
        request.headers.last_mut().unwrap().1 = authorization(&signature);
        request
    }

    fn assume_body(role_arn: &str, session: &str, extra: &str) -> String {
        format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName={}{extra}",
            percent_encode(role_arn),
            percent_encode(session)
        )
    }

    fn element<'a>(xml: &'a str, name: &str) -> &'a str {
        let open = format!("<{name}>");
        let start = xml.find(&open).unwrap_or_else(|| panic!("no {name} in {xml}")) + open.len();
        &xml[start..start + xml[start..].find('<').unwrap()]
    }

    fn keys_of(response: &ApiResponse) -> Keys {
        let xml = String::from_utf8_lossy(&response.body);
        Keys {
            id: element(&xml, "AccessKeyId").to_owned(),
            secret: element(&xml, "SecretAccessKey").to_owned(),
            token: element(&xml, "SessionToken").to_owned(),
        }
    }

    fn code(response: &ApiResponse) -> (u16, String) {
        let xml = String::from_utf8_lossy(&response.body);
        (response.status, element(&xml, "Code").to_owned())
    }

    #[test]
    fn each_hop_of_a_chain_is_signed_by_the_credentials_of_the_one_before() {
        let (mut state, source) = state_with_source();
        let mut keys = source;
        for (hop, role) in [
            "arn:aws:iam::111111111111:role/one",
            "arn:aws:iam::222222222222:role/a/b/two",
            "arn:aws-cn:iam::333333333333:role/three",
        ]
        .iter()
        .enumerate()
        {
            let body = assume_body(role, &format!("hop-{hop}"), "&DurationSeconds=900");
            let answer = assume_role(&mut state, &signed_post(&body, &keys, NOW, "sts"), NOW);
            assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
            let xml = String::from_utf8_lossy(&answer.body).into_owned();
            assert!(xml.starts_with(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            ));
            assert_eq!(element(&xml, "Expiration"), "2026-12-07T02:15:00Z");
            assert!(element(&xml, "AssumedRoleId").ends_with(&format!(":hop-{hop}")));
            assert_eq!(answer.header("x-amzn-RequestId"), Some(element(&xml, "RequestId")));
            keys = keys_of(&answer);
            assert!(keys.id.starts_with("ASIA") && keys.id.len() == 20, "{}", keys.id);
        }
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        let answer = get_caller_identity(&mut state, &signed_post(body, &keys, NOW, "sts"), NOW);
        let xml = String::from_utf8_lossy(&answer.body).into_owned();
        assert_eq!(answer.status, 200, "{xml}");
        assert_eq!(element(&xml, "Arn"), "arn:aws-cn:sts::333333333333:assumed-role/three/hop-2");
        assert_eq!(element(&xml, "Account"), "333333333333");
        assert_eq!(element(&xml, "UserId"), format!("{}:hop-2", role_id("333333333333/three")));
    }

    #[test]
    fn each_refusal_has_the_services_code_and_status_and_names_no_secret() {
        let (mut state, source) = state_with_source();
        let good = assume_body("arn:aws:iam::111111111111:role/one", "session", "");
        let wrong = |change: &dyn Fn(&mut Keys)| {
            let mut keys = Keys {
                id: source.id.clone(),
                secret: source.secret.clone(),
                token: source.token.clone(),
            };
            change(&mut keys);
            signed_post(&good, &keys, NOW, "sts")
        };
        let mut untokened = signed_post(&good, &source, NOW, "sts");
        untokened.headers.retain(|(name, _)| name != "x-amz-security-token");
        let mut tampered = signed_post(&good, &source, NOW, "sts");
        tampered.body =
            assume_body("arn:aws:iam::111111111111:role/two", "session", "").into_bytes();
        let unsigned = ApiRequest {
            method: "POST".into(),
            path: "/".into(),
            body: good.clone().into_bytes(),
            ..Default::default()
        };
        let bad_duration = |seconds: &str| {
            signed_post(
                &assume_body(
                    "arn:aws:iam::111111111111:role/one",
                    "session",
                    &format!("&DurationSeconds={seconds}"),
                ),
                &source,
                NOW,
                "sts",
            )
        };
        let cases: Vec<(&str, ApiRequest, u64, (u16, &str))> = vec![
            ("no signature", unsigned, NOW, (403, "MissingAuthenticationToken")),
            (
                "unknown key",
                wrong(&|k| k.id = "ASIAUNKNOWN000000000".into()),
                NOW,
                (403, "InvalidClientTokenId"),
            ),
            (
                "wrong token",
                wrong(&|k| k.token = "other".into()),
                NOW,
                (403, "InvalidClientTokenId"),
            ),
            ("no token", untokened, NOW, (403, "InvalidClientTokenId")),
            (
                "wrong secret",
                wrong(&|k| k.secret = "wrong".into()),
                NOW,
                (403, "SignatureDoesNotMatch"),
            ),
            ("changed body", tampered, NOW, (403, "SignatureDoesNotMatch")),
            (
                "scoped to iam",
                signed_post(&good, &source, NOW, "iam"),
                NOW,
                (403, "SignatureDoesNotMatch"),
            ),
            (
                "16 min late",
                signed_post(&good, &source, NOW, "sts"),
                NOW + 16 * MINUTE,
                (403, "SignatureDoesNotMatch"),
            ),
            (
                "16 min early",
                signed_post(&good, &source, NOW + 16 * MINUTE, "sts"),
                NOW,
                (403, "SignatureDoesNotMatch"),
            ),
            (
                "expired",
                signed_post(&good, &source, NOW + 60 * MINUTE, "sts"),
                NOW + 60 * MINUTE,
                (400, "ExpiredToken"),
            ),
            (
                "no RoleArn",
                signed_post("Action=AssumeRole&RoleSessionName=ab", &source, NOW, "sts"),
                NOW,
                (400, "ValidationError"),
            ),
            (
                "a user ARN",
                signed_post(
                    &assume_body("arn:aws:iam::111111111111:user/one", "session", ""),
                    &source,
                    NOW,
                    "sts",
                ),
                NOW,
                (400, "ValidationError"),
            ),
            (
                "a 1-char session",
                signed_post(
                    &assume_body("arn:aws:iam::111111111111:role/one", "s", ""),
                    &source,
                    NOW,
                    "sts",
                ),
                NOW,
                (400, "ValidationError"),
            ),
            (
                "a session with a space",
                signed_post(
                    &assume_body("arn:aws:iam::111111111111:role/one", "a b", ""),
                    &source,
                    NOW,
                    "sts",
                ),
                NOW,
                (400, "ValidationError"),
            ),
            ("899 s", bad_duration("899"), NOW, (400, "ValidationError")),
            ("43201 s", bad_duration("43201"), NOW, (400, "ValidationError")),
            ("2 h, chained", bad_duration("7200"), NOW, (400, "ValidationError")),
            (
                "a denied role",
                signed_post(&assume_body(DENIED, "session", ""), &source, NOW, "sts"),
                NOW,
                (403, "AccessDenied"),
            ),
        ];
        for (case, request, now, expected) in cases {
            let answer = assume_role(&mut state, &request, now);
            assert_eq!(code(&answer), (expected.0, expected.1.to_owned()), "{case}");
            assert_eq!(answer.error_type, Some(expected.1), "{case}");
            let body = String::from_utf8_lossy(&answer.body);
            assert!(body.contains("<Type>Sender</Type>"), "{case}: {body}");
            assert!(
                !body.contains(&source.secret) && !body.contains(&source.token),
                "{case}: {body}"
            );
        }
        // Just inside the limits, the same request is answered.
        for (at, now) in [(NOW, NOW + 14 * MINUTE), (NOW + 14 * MINUTE, NOW)] {
            let answer = assume_role(&mut state, &signed_post(&good, &source, at, "sts"), now);
            assert_eq!(answer.status, 200, "signed at {at}, checked at {now}");
        }
        assert_eq!(assume_role(&mut state, &bad_duration("3600"), NOW).status, 200);
    }

    #[test]
    fn a_presigned_get_works_until_its_expiry() {
        let (mut state, source) = state_with_source();
        let mut query = vec![
            ("Action", "GetCallerIdentity".to_owned()),
            ("Version", VERSION.to_owned()),
            ("X-Amz-Algorithm", sigv4::ALGORITHM.to_owned()),
            (
                "X-Amz-Credential",
                format!("{}/{}/us-east-1/sts/aws4_request", source.id, sigv4::scope_date(NOW)),
            ),
            ("X-Amz-Date", amz_date(NOW)),
            ("X-Amz-Expires", "60".to_owned()),
            ("X-Amz-SignedHeaders", "host".to_owned()),
            ("X-Amz-Security-Token", source.token.clone()),
        ];
        let request = |query: &[(&str, String)]| ApiRequest {
            method: "GET".into(),
            path: "/".into(),
            query: query.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            headers: vec![("host".into(), "127.0.0.1:4000".into())],
            ..Default::default()
        };
        let presented = sigv4::presented(&{
            let mut with_signature = query.clone();
            with_signature.push(("X-Amz-Signature", "0".to_owned()));
            request(&with_signature)
        })
        .unwrap();
        let signature = sigv4::signature(&request(&query), &presented, &source.secret);
        query.push(("X-Amz-Signature", signature));
        let url = request(&query);
        assert_eq!(action(&url).as_deref(), Some("GetCallerIdentity"));
        assert_eq!(get_caller_identity(&mut state, &url, NOW + 60_000).status, 200);
        let late = get_caller_identity(&mut state, &url, NOW + 61_000);
        assert_eq!(code(&late), (403, "SignatureDoesNotMatch".to_owned()));
        let mut moved = url.clone();
        moved.headers[0].1 = "127.0.0.1:4001".into();
        assert_eq!(
            code(&get_caller_identity(&mut state, &moved, NOW)),
            (403, "SignatureDoesNotMatch".to_owned())
        );
    }

    #[test]
    fn role_arns_are_taken_apart_or_refused() {
        let role =
            parse_role_arn("arn:aws-us-gov:iam::123456789012:role/path/to/Name+=,.@-_").unwrap();
        assert_eq!(
            (role.partition, role.account, role.name),
            ("aws-us-gov", "123456789012", "Name+=,.@-_")
        );
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role//x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:azure:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam::123456789012:group/x",
        ] {
            assert!(parse_role_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_action_comes_from_the_query_or_a_form_body() {
        let query = ApiRequest {
            method: "GET".into(),
            path: "/".into(),
            query: crate::wire::parse_query("Action=AssumeRole"),
            ..Default::default()
        };
        assert_eq!(action(&query).as_deref(), Some("AssumeRole"));
        let form = ApiRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: b"Action=GetCallerIdentity".to_vec(),
            ..Default::default()
        };
        assert_eq!(action(&form).as_deref(), Some("GetCallerIdentity"));
        let json = ApiRequest {
            headers: vec![("content-type".into(), "application/json".into())],
            ..form
        };
        assert_eq!(action(&json), None, "a JSON body is no form");
        assert_eq!(code(&unknown_action(&json)), (400, "InvalidAction".to_owned()));
    }

    #[test]
    fn only_the_api_version_of_sts_is_served() {
        let with = |query: &str| ApiRequest {
            method: "GET".into(),
            path: "/".into(),
            query: crate::wire::parse_query(query),
            ..Default::default()
        };
        assert!(known_version(&with("Action=GetCallerIdentity&Version=2011-06-15")));
        for (query, says) in [
            ("Action=GetCallerIdentity&Version=2010-01-01", "for version 2010-01-01"),
            ("Action=GetCallerIdentity", "must contain the parameter Version"),
        ] {
            let request = with(query);
            assert!(!known_version(&request), "{query}");
            let answer = unknown_action(&request);
            assert_eq!(code(&answer), (400, "InvalidAction".to_owned()), "{query}");
            let body = String::from_utf8_lossy(&answer.body).into_owned();
            assert!(body.contains(says), "{query}: {body}");
        }
    }
}
