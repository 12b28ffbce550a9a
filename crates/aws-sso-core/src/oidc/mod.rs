//! Logging in with IAM Identity Center's OIDC service: the three calls (RegisterClient,
//! StartDeviceAuthorization, CreateToken) in [`client`], the device-code flow in [`device`], and
//! the browser flow (authorization code with PKCE and a loopback listener) in [`pkce`].
//!
//! The flows never print: they speak to the person through [`LoginPrompt`], which the binary
//! implements.

mod client;
mod device;
mod pkce;

use std::time::Duration;

pub use client::{
    DeviceAuthorization, OidcClient, RegisterClientRequest, Registration, TokenGrant,
    device_registration_request, pkce_registration_request,
};
pub use device::{DeviceFlowOptions, device_code_flow, device_code_flow_with};
pub use pkce::{
    Pkce, PkceOptions, authorization_code_flow, authorize_url, code_challenge, redirect_uri,
};

use crate::http::HttpError;

/// How a login flow talks to the person logging in. Implemented by the binary; core never prints.
pub trait LoginPrompt {
    /// Device flow, after the first CreateToken says the authorization is pending.
    fn show_device_code(
        &mut self,
        verification_uri: &str,
        user_code: &str,
        verification_uri_complete: Option<&str>,
    );

    /// Browser flow, once the loopback listener is ready: open this URL.
    fn show_authorize_url(&mut self, url: &str);

    /// Called while polling or waiting for the browser (a spinner may tick); may do nothing.
    fn waiting(&mut self) {}
}

/// Why a login did not produce a token.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "The login was denied{}. Run aws-sso-login again and approve the request in the browser.",
        detail_suffix(detail)
    )]
    Denied { detail: String },

    #[error(
        "The login request expired before it was approved. Run aws-sso-login again and approve \
         it in the browser while it waits."
    )]
    Expired,

    #[error(
        "No answer came back from the browser within {} s. Run aws-sso-login again, or use \
         --use-device-code when this machine cannot open a browser.",
        after.as_secs()
    )]
    TimedOut { after: Duration },

    #[error(
        "The authorization server refused the login: {error}{}. Run aws-sso-login again, or \
         use --use-device-code.",
        detail_suffix(description.as_deref().unwrap_or(""))
    )]
    Failed { error: String, description: Option<String> },

    #[error(
        "The browser login's callback failed: {detail}. Run aws-sso-login again, or use \
         --use-device-code."
    )]
    Callback { detail: String },

    #[error(
        "Could not start the local listener that receives the browser login: {detail}. Use \
         --use-device-code to log in without it."
    )]
    Listener { detail: String },

    #[error("Could not get random bytes from the operating system for the login: {detail}.")]
    Random { detail: String },

    #[error(transparent)]
    Http(#[from] HttpError),
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(" ({detail})") }
}

/// The service's own words about an error, for the person logging in.
pub(crate) fn service_message(e: &HttpError) -> String {
    match e {
        HttpError::Service(s) => s.message.clone(),
        _ => String::new(),
    }
}

/// A string from the service as it may be shown on a terminal: without control characters,
/// which could move the cursor, clear the screen or rewrite what was printed.
pub(crate) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], LoginError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| LoginError::Random { detail: e.to_string() })?;
    Ok(bytes)
}

/// A prompt that records what it was shown, for the flow tests.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RecordingPrompt {
    pub device_codes: Vec<(String, String, Option<String>)>,
    pub urls: Vec<String>,
    pub waits: usize,
    /// Run when an authorize URL is shown, as a browser would.
    pub on_url: Option<OpenBrowser>,
}

#[cfg(test)]
pub(crate) type OpenBrowser = Box<dyn FnMut(&str)>;

#[cfg(test)]
impl LoginPrompt for RecordingPrompt {
    fn show_device_code(&mut self, uri: &str, code: &str, complete: Option<&str>) {
        self.device_codes.push((uri.to_owned(), code.to_owned(), complete.map(str::to_owned)));
    }

    fn show_authorize_url(&mut self, url: &str) {
        self.urls.push(url.to_owned());
        if let Some(browser) = self.on_url.as_mut() {
            browser(url);
        }
    }

    fn waiting(&mut self) {
        self.waits += 1;
    }
}
