//! The device-code flow (docs/aws-contracts.md §1.9): show a code, then poll CreateToken at the
//! service's pace until the person approves, denies, or the code expires.

use std::time::Duration;

use tokio::time::Instant;

use super::client::{OidcClient, TokenGrant};
use super::{LoginError, LoginPrompt, printable, service_message};
use crate::browser::check_url;
use crate::secret::Secret;

/// The poll interval when the service does not give one (`_DEFAULT_INTERVAL` in the AWS CLI).
const DEFAULT_INTERVAL: u64 = 5;

/// What a `SlowDownException` adds to the interval (`_SLOW_DOWN_DELAY`).
const SLOW_DOWN_STEP: u64 = 5;

/// Limits of the device-code flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFlowOptions {
    /// A safety net: stop polling after this long even if the code's `expiresIn` is later.
    pub max_wait: Duration,
    /// How long one second of the service's `interval` and `expiresIn` lasts. Always one
    /// second, except in tests that must not wait.
    pub interval_unit: Duration,
}

impl Default for DeviceFlowOptions {
    fn default() -> Self {
        Self { max_wait: Duration::from_secs(30 * 60), interval_unit: Duration::from_secs(1) }
    }
}

/// Logs in with the device code flow and the default limits.
pub async fn device_code_flow(
    client: &OidcClient,
    client_id: &str,
    client_secret: &Secret,
    start_url: &str,
    prompt: &mut dyn LoginPrompt,
) -> Result<TokenGrant, LoginError> {
    device_code_flow_with(
        client,
        client_id,
        client_secret,
        start_url,
        &DeviceFlowOptions::default(),
        prompt,
    )
    .await
}

/// Logs in with the device code flow: StartDeviceAuthorization, one CreateToken before showing
/// anything (the request may be approved already), then the code, then polling.
pub async fn device_code_flow_with(
    client: &OidcClient,
    client_id: &str,
    client_secret: &Secret,
    start_url: &str,
    opts: &DeviceFlowOptions,
    prompt: &mut dyn LoginPrompt,
) -> Result<TokenGrant, LoginError> {
    let auth = client.start_device_authorization(client_id, client_secret, start_url).await?;
    let started = Instant::now();
    let lifetime = match auth.expires_in {
        0 => opts.max_wait,
        secs => scaled(secs, opts).min(opts.max_wait),
    };
    let deadline = started + lifetime;
    let mut interval = auth.interval.unwrap_or(DEFAULT_INTERVAL).max(1);
    let mut shown = false;
    loop {
        match client.create_token_device(client_id, client_secret, &auth.device_code).await {
            Ok(grant) => return Ok(grant),
            Err(e) => match e.code() {
                Some("AuthorizationPendingException") => {}
                Some("SlowDownException") => interval += SLOW_DOWN_STEP,
                Some("ExpiredTokenException") => return Err(LoginError::Expired),
                Some("AccessDeniedException") => {
                    return Err(LoginError::Denied { detail: service_message(&e) });
                }
                _ => return Err(e.into()),
            },
        }
        if !shown {
            // Everything shown comes from the service: no escape reaches the terminal, and a URL
            // that is no https link (`file:`, `javascript:`, `-option`) is never opened.
            let complete = auth.verification_uri_complete.as_deref().filter(|url| {
                check_url(url)
                    .inspect_err(|e| {
                        tracing::warn!("ignoring the service's verificationUriComplete: {e}")
                    })
                    .is_ok()
            });
            prompt.show_device_code(
                &printable(&auth.verification_uri),
                &printable(&auth.user_code),
                complete,
            );
            shown = true;
        }
        let wake = Instant::now() + scaled(interval, opts);
        if wake > deadline {
            tracing::debug!("device code expired without an answer from the service");
            return Err(LoginError::Expired);
        }
        prompt.waiting();
        tokio::time::sleep_until(wake).await;
    }
}

fn scaled(secs: u64, opts: &DeviceFlowOptions) -> Duration {
    opts.interval_unit.saturating_mul(u32::try_from(secs).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::http::test_server::{Canned, TestServer};
    use crate::http::{HttpClient, HttpSettings};
    use crate::oidc::RecordingPrompt;

    const AUTH: &str = r#"{"deviceCode":"DEV","userCode":"ABCD-EFGH","verificationUri":"https://device.example/","verificationUriComplete":"https://device.example/?user_code=ABCD-EFGH","expiresIn":600,"interval":1}"#;
    const TOKEN: &str = r#"{"accessToken":"AT","expiresIn":28800,"tokenType":"Bearer"}"#;

    fn oauth_error(error: &str, exception: &str) -> Canned {
        Canned::json(400, &format!(r#"{{"error":"{error}","error_description":"d"}}"#)).header(
            "x-amzn-ErrorType",
            &format!("{exception}:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"),
        )
    }

    fn fast() -> DeviceFlowOptions {
        DeviceFlowOptions {
            max_wait: Duration::from_secs(60),
            interval_unit: Duration::from_millis(10),
        }
    }

    async fn run(
        responses: Vec<Canned>,
        prompt: &mut RecordingPrompt,
    ) -> (Result<TokenGrant, LoginError>, TestServer) {
        run_with(responses, &fast(), prompt).await
    }

    async fn run_with(
        responses: Vec<Canned>,
        opts: &DeviceFlowOptions,
        prompt: &mut RecordingPrompt,
    ) -> (Result<TokenGrant, LoginError>, TestServer) {
        let server = TestServer::start(responses);
        let http = Arc::new(HttpClient::new(HttpSettings::default()));
        let client = OidcClient::new(server.base_url.clone(), http);
        let secret = Secret::new("CS");
        let result =
            device_code_flow_with(&client, "CID", &secret, "https://start", opts, prompt).await;
        (result, server)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_approved_request_prints_nothing() {
        let mut prompt = RecordingPrompt::default();
        let (result, server) =
            run(vec![Canned::json(200, AUTH), Canned::json(200, TOKEN)], &mut prompt).await;
        assert_eq!(result.expect("token").access_token.expose(), "AT");
        assert!(prompt.device_codes.is_empty());
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn polls_through_pending_and_slow_down_then_shows_the_code_once() {
        let mut prompt = RecordingPrompt::default();
        let start = Instant::now();
        let (result, server) = run(
            vec![
                Canned::json(200, AUTH),
                oauth_error("authorization_pending", "AuthorizationPendingException"),
                oauth_error("slow_down", "SlowDownException"),
                // No header: the OAuth error field alone must be understood.
                Canned::json(400, r#"{"error":"authorization_pending","error_description":"p"}"#),
                Canned::json(200, TOKEN),
            ],
            &mut prompt,
        )
        .await;
        assert_eq!(result.expect("token").access_token.expose(), "AT");
        assert_eq!(
            prompt.device_codes,
            vec![(
                "https://device.example/".to_owned(),
                "ABCD-EFGH".to_owned(),
                Some("https://device.example/?user_code=ABCD-EFGH".to_owned())
            )]
        );
        assert_eq!(server.requests().len(), 5);
        assert_eq!(prompt.waits, 3);
        // Interval 1, then 1, then 6 after slow_down, then 6: at least 14 units of 10 ms.
        assert!(start.elapsed() >= Duration::from_millis(140), "{:?}", start.elapsed());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn expired_and_denied_end_the_flow() {
        let mut prompt = RecordingPrompt::default();
        let (result, _) = run(
            vec![
                Canned::json(200, AUTH),
                oauth_error("authorization_pending", "AuthorizationPendingException"),
                oauth_error("expired_token", "ExpiredTokenException"),
            ],
            &mut prompt,
        )
        .await;
        assert!(matches!(result, Err(LoginError::Expired)), "{result:?}");

        let mut prompt = RecordingPrompt::default();
        let (result, _) = run(
            vec![
                Canned::json(200, AUTH),
                Canned::json(400, r#"{"error":"access_denied","error_description":"User denied"}"#),
            ],
            &mut prompt,
        )
        .await;
        let err = result.expect_err("denied");
        assert!(
            matches!(&err, LoginError::Denied { detail } if detail == "User denied"),
            "{err:?}"
        );
        assert!(err.to_string().contains("aws-sso-login"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stops_at_expires_in_when_the_service_never_says_expired() {
        let auth = r#"{"deviceCode":"DEV","userCode":"U","verificationUri":"https://d/","expiresIn":3,"interval":1}"#;
        let mut responses = vec![Canned::json(200, auth)];
        responses.extend(
            (0..10).map(|_| oauth_error("authorization_pending", "AuthorizationPendingException")),
        );
        let mut prompt = RecordingPrompt::default();
        // A long unit so that the time each poll takes cannot add up to a whole unit.
        let opts = DeviceFlowOptions { interval_unit: Duration::from_millis(100), ..fast() };
        let (result, server) = run_with(responses, &opts, &mut prompt).await;
        assert!(matches!(result, Err(LoginError::Expired)), "{result:?}");
        // Polls at 0, 1 and 2 units; the next one would be at 3, the expiry.
        assert_eq!(server.requests().len(), 1 + 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn other_errors_propagate_with_their_code() {
        let mut prompt = RecordingPrompt::default();
        let (result, _) = run(
            vec![Canned::json(200, AUTH), oauth_error("invalid_client", "InvalidClientException")],
            &mut prompt,
        )
        .await;
        match result {
            Err(LoginError::Http(e)) => assert_eq!(e.code(), Some("InvalidClientException")),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_hostile_code_and_links_are_shown_without_escapes_and_never_opened() {
        let auth = serde_json::json!({
            "deviceCode": "DEV",
            "userCode": "ABCD\u{1b}[2J\u{1b}]0;owned\u{7}-EFGH",
            "verificationUri": "https://device.example/\u{1b}[31m",
            "verificationUriComplete": "file:///etc/passwd",
            "expiresIn": 600,
            "interval": 1,
        })
        .to_string();
        for complete in ["file:///etc/passwd", "javascript:alert(1)", "-a"] {
            let auth = auth.replace("file:///etc/passwd", complete);
            let mut prompt = RecordingPrompt::default();
            let (result, _) = run(
                vec![
                    Canned::json(200, &auth),
                    oauth_error("authorization_pending", "AuthorizationPendingException"),
                    Canned::json(200, TOKEN),
                ],
                &mut prompt,
            )
            .await;
            result.expect("token");
            assert_eq!(
                prompt.device_codes,
                vec![(
                    "https://device.example/[31m".to_owned(),
                    "ABCD[2J]0;owned-EFGH".to_owned(),
                    None
                )],
                "{complete}"
            );
        }
    }
}
