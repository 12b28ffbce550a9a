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
            "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{sender}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
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
    let message = match action(request) {
        Some(action) => format!("Could not find operation {action} for version {VERSION}"),
        None => "The request must contain the parameter Action".to_owned(),
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
            "{role_arn} is invalid: a role ARN is arn:<partition>:iam::<12-digit account>:role/<path/><name>"
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
        "<AssumeRoleResponse xmlns=\"{NAMESPACE}\">\n  <AssumeRoleResult>\n    <Credentials>\n      <AccessKeyId>{access_key_id}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
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
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        escape(&identity.arn),
        escape(&identity.user_id),
        escape(&identity.account),
    );
    xml(200, body, request_id)
}
