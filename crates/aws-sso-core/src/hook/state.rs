//! What the hook remembers between runs (`_AWS_SSO_STATE`) and the managed variables as the
//! shell holds them now.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MANAGED, STATE_VAR};
use crate::env::Environment;
use crate::shell;

/// What the hook remembers between runs, in the shell variable `_AWS_SSO_STATE`. It holds
/// names, paths, the expiry and the access key id: never a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookState {
    pub v: u32,
    /// The project file whose credentials are exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// As exported in `AWS_CREDENTIAL_EXPIRATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    /// Every variable the hook exported.
    #[serde(default)]
    pub set: Vec<String>,
    /// The value each variable the hook changed or unset had before (`None`: unset). The value
    /// of a secret variable is never written ([`SECRETS`]): a shell that held one has
    /// credentials of its own, which the hook leaves alone.
    #[serde(default, serialize_with = "saved_without_secrets")]
    pub saved: BTreeMap<String, Option<String>>,
    /// The causes of the messages already printed, while they last.
    #[serde(default)]
    pub told: Vec<String>,
    /// The account and role `aws-sso use` chose for this shell: while set, it is what should be
    /// active, in every directory, before any project file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<Used>,
}

/// The account and role `aws-sso use` chose, as resolved once (an id, never a name to look up
/// again), with the session that reaches it. Names only: no secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Used {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub role_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The `[sso-session]`, or `None` for a legacy profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_session: Option<String>,
    /// The profile the session was reached through, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

impl Used {
    /// `<account name, else id>:<role>`, as `AWS_SSO_PROFILE` shows it.
    pub fn label(&self) -> String {
        format!("{}:{}", self.account_name.as_deref().unwrap_or(&self.account_id), self.role_name)
    }

    /// The same account and role of the same session: names and region may differ.
    pub fn same_role(&self, other: &Used) -> bool {
        self.account_id == other.account_id
            && self.role_name == other.role_name
            && self.sso_session == other.sso_session
            && self.profile == other.profile
    }
}

/// The variables whose values are secrets: never kept in the state.
pub(super) const SECRETS: [&str; 2] = [shell::AWS_SECRET_ACCESS_KEY, shell::AWS_SESSION_TOKEN];

/// The three variables that make credentials: any of them set by the user makes them the user's.
const CREDENTIALS: [&str; 3] =
    [shell::AWS_ACCESS_KEY_ID, shell::AWS_SECRET_ACCESS_KEY, shell::AWS_SESSION_TOKEN];

fn saved_without_secrets<S: serde::Serializer>(
    saved: &BTreeMap<String, Option<String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    let mut map = serializer.serialize_map(Some(saved.len()))?;
    for (name, value) in saved {
        // The state is a plain shell variable that `set` prints: it must never hold a secret.
        let value = if SECRETS.contains(&name.as_str()) { &None } else { value };
        map.serialize_entry(name, value)?;
    }
    map.end()
}

impl HookState {
    pub const VERSION: u32 = 1;

    /// The state from `_AWS_SSO_STATE`. Empty, unreadable or of another version: nothing active
    /// (the variables it names then count as the user's).
    pub fn decode(text: Option<&str>) -> HookState {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return HookState::default();
        };
        match serde_json::from_str::<HookState>(text) {
            Ok(state) if state.v == Self::VERSION => state,
            Ok(state) => {
                tracing::warn!("ignoring {STATE_VAR} of version {}", state.v);
                HookState::default()
            }
            Err(e) => {
                tracing::warn!("ignoring an unreadable {STATE_VAR}: {e}");
                HookState::default()
            }
        }
    }

    /// One line of JSON; empty when there is nothing to remember.
    pub fn encode(&self) -> String {
        if self.set.is_empty()
            && self.saved.is_empty()
            && self.told.is_empty()
            && self.used.is_none()
        {
            return String::new();
        }
        let state = HookState { v: Self::VERSION, ..self.clone() };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// The value the hook gave `name`: `Some(None)` when it unset it, `None` when it does not
    /// manage it or does not know (the secret key and the session token are not kept).
    fn ours(&self, name: &str) -> Option<Option<String>> {
        if !self.saved.contains_key(name) {
            return None;
        }
        if !self.set.iter().any(|n| n == name) {
            return Some(None);
        }
        let known = match name {
            shell::AWS_ACCESS_KEY_ID => self.access_key_id.clone(),
            shell::AWS_CREDENTIAL_EXPIRATION => self.expiration.clone(),
            shell::AWS_REGION | shell::AWS_DEFAULT_REGION => self.region.clone(),
            shell::AWS_SSO_ACCOUNT_ID => self.account_id.clone(),
            shell::AWS_SSO_ACCOUNT_NAME => self.account_name.clone(),
            shell::AWS_SSO_ROLE_NAME => self.role_name.clone(),
            shell::AWS_SSO_PROFILE => {
                let account = self.account_name.as_ref().or(self.account_id.as_ref());
                account.zip(self.role_name.as_ref()).map(|(a, r)| format!("{a}:{r}"))
            }
            _ => return None,
        };
        known.map(Some)
    }

    pub(super) fn owns_credentials(&self, current: &Vars) -> bool {
        self.set.iter().any(|n| n == shell::AWS_ACCESS_KEY_ID)
            && self.access_key_id.is_some()
            && current.get(shell::AWS_ACCESS_KEY_ID) == self.access_key_id.as_deref()
    }

    /// The first credential variable the shell holds that the hook did not set, if any: then
    /// the shell has credentials of its own (even a lone secret key or session token, whose
    /// value the state could not keep to restore).
    pub(super) fn foreign_credential(&self, current: &Vars) -> Option<&'static str> {
        if self.owns_credentials(current) {
            return None;
        }
        CREDENTIALS.into_iter().find(|name| current.get(name).is_some_and(|v| !v.is_empty()))
    }

    /// Whether `name` still holds what the hook gave it. Unknown values (the secret key and
    /// the session token) follow `AWS_ACCESS_KEY_ID`: the three change together.
    pub(super) fn still_ours(&self, name: &str, current: &Vars) -> bool {
        match self.ours(name) {
            Some(value) => current.get(name) == value.as_deref(),
            None => self.saved.contains_key(name) && self.owns_credentials(current),
        }
    }
}

/// The managed variables as the shell holds them now.
///
/// `Debug` shows the names only: the values include the secret key and the session token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Vars(pub(super) BTreeMap<String, String>);

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Vars {
    /// The managed variables of `env`.
    pub fn from_env(env: &Environment) -> Vars {
        Vars(
            MANAGED
                .iter()
                .filter_map(|name| Some((name.to_string(), env.get(name)?.to_owned())))
                .collect(),
        )
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vars {
        Vars(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}
