//! One run's output: the messages it tells (once per cause) and the shell code that brings
//! every managed variable from what the shell holds to what it should hold.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::SystemTime;

use jiff::Timestamp;

use super::state::{HookState, Used, Vars};
use super::{
    FILE_VAR, HookInput, HookOutput, MANAGED, MARKER_VAR, OWN_CREDENTIALS, REFRESH_AT_VAR,
    STAMP_VAR, STATE_VAR, USED_VAR, marker, stamp,
};
use crate::cache::role_credentials::RoleCredentials;
use crate::config::project::ProjectFile;
use crate::credentials::REUSE_WINDOW;
use crate::env::{self, Environment};
use crate::resolve::ResolvedRole;
use crate::shell::{self, Exports, Shell};

/// The state of one run while it decides.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) shell: Shell,
    pub(super) pwd: PathBuf,
    pub(super) shell_pid: Option<u32>,
    pub(super) old: HookState,
    pub(super) current: Vars,
    pub(super) now: Timestamp,
    /// The nearest project file, trusted or not.
    pub(super) project_path: Option<PathBuf>,
    pub(super) project_mtime: Option<SystemTime>,
    pub(super) marker: Option<PathBuf>,
    pub(super) marker_mtime: Option<SystemTime>,
    pub(super) told: Vec<String>,
    pub(super) messages: Vec<String>,
    pub(super) retry_at: Option<Timestamp>,
    /// What `aws-sso use` chose, kept whatever this run decides (only `--clear` drops it).
    pub(super) used: Option<Used>,
    pub(super) used_export: Option<String>,
}

/// What the managed variables should hold when credentials are exported.
pub(super) struct Active<'a> {
    exports: &'a Exports,
    state: HookState,
    refresh_at: i64,
}

impl Run {
    pub(super) fn new(env: &Environment, shell: Shell, input: HookInput) -> Run {
        let HookInput { state, pwd, shell_pid, current, used_export, now } = input;
        let used = state.used.clone();
        // Read first: an allow or a login after this moves the marker past the stamp.
        let marker = marker::path(env);
        let marker_mtime = marker.as_deref().and_then(stamp::modified);
        let mut told = Vec::new();
        // Said once for as long as the user's own credentials stay in the shell.
        let foreign = state.foreign_credential(&current).is_some();
        if foreign && state.told.iter().any(|t| t == OWN_CREDENTIALS) {
            told.push(OWN_CREDENTIALS.to_owned());
        }
        Run {
            shell,
            pwd,
            shell_pid,
            old: state,
            current,
            now,
            project_path: None,
            project_mtime: None,
            marker,
            marker_mtime,
            told,
            messages: Vec::new(),
            retry_at: None,
            used,
            used_export,
        }
    }

    /// A message, printed unless the previous run already printed it for the same cause.
    pub(super) fn tell(&mut self, cause: String, message: impl Display) {
        if !self.old.told.contains(&cause) {
            // Paths and names in it may hold escape sequences: the terminal must not run them.
            let text = shell::printable(&message.to_string());
            // One line each, whatever the message or the paths in it hold.
            let line: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            self.messages.push(format!("aws-sso: {}", line.join(" ")));
        }
        if !self.told.contains(&cause) {
            self.told.push(cause);
        }
    }

    /// The variable that shows the shell has credentials of its own, if it has.
    pub(super) fn credentials_of_the_users_own(&self) -> Option<&'static str> {
        self.old.foreign_credential(&self.current)
    }

    /// What `name` would hold had the hook never touched it.
    pub(super) fn baseline(&self, name: &str) -> Option<String> {
        match self.old.saved.get(name) {
            Some(saved) if self.old.still_ours(name, &self.current) => saved.clone(),
            _ => self.current.get(name).map(str::to_owned),
        }
    }

    pub(super) fn activate(
        &mut self,
        env: &Environment,
        file: Option<&ProjectFile>,
        resolved: &ResolvedRole,
        creds: &RoleCredentials,
    ) -> HookOutput {
        let exports = resolved.credential_view(creds).exports();
        let state = HookState {
            v: HookState::VERSION,
            file: file.map(|f| f.path.to_string_lossy().into_owned()),
            account_id: Some(resolved.account_id.clone()),
            account_name: exports.get(shell::AWS_SSO_ACCOUNT_NAME).map(str::to_owned),
            role_name: Some(resolved.role_name.clone()),
            region: exports.get(shell::AWS_REGION).map(str::to_owned),
            access_key_id: Some(creds.access_key_id.clone()),
            expiration: exports.get(shell::AWS_CREDENTIAL_EXPIRATION).map(str::to_owned),
            ..HookState::default()
        };
        let expires = creds.expiration.as_second();
        let mut refresh_at = expires - REUSE_WINDOW.as_secs();
        if refresh_at <= self.now.as_second() {
            // Credentials that live less than the window: refresh half way, not on every prompt.
            refresh_at = self.now.as_second() + ((expires - self.now.as_second()) / 2).max(1);
        }
        let active = Active { exports: &exports, state, refresh_at };
        self.render(env, Some(active))
    }

    pub(super) fn deactivate(&mut self, env: &Environment) -> HookOutput {
        self.render(env, None)
    }

    pub(super) fn render(&mut self, env: &Environment, active: Option<Active<'_>>) -> HookOutput {
        // Within one project (or one `aws-sso use`) a variable the user changed stays theirs; a
        // new project, or a new use, sets all.
        let same_project = active.as_ref().is_some_and(|a| match (&self.used, &self.old.used) {
            (Some(now), Some(before)) => now.same_role(before) && self.old.account_id.is_some(),
            (Some(_), None) | (None, Some(_)) => false,
            (None, None) => {
                a.state.file.as_deref() == self.old.file.as_deref() && self.old.file.is_some()
            }
        });
        let mut state = HookState {
            told: std::mem::take(&mut self.told),
            used: self.used.clone(),
            ..HookState::default()
        };
        let mut unsets = String::new();
        let mut exports = String::new();
        for name in MANAGED {
            let users =
                self.old.saved.contains_key(name) && !self.old.still_ours(name, &self.current);
            let ours: Option<Option<&str>> = match &active {
                Some(_) if users && same_project => None,
                Some(_) if name == env::AWS_PROFILE => Some(None),
                Some(a) => a.exports.get(name).map(Some),
                None => None,
            };
            let desired = match ours {
                Some(value) => {
                    state.saved.insert(name.to_owned(), self.baseline(name));
                    if value.is_some() {
                        state.set.push(name.to_owned());
                    }
                    value.map(str::to_owned)
                }
                None => self.baseline(name),
            };
            let current = self.current.get(name);
            match desired {
                None if current.is_some() => {
                    push_line(&mut unsets, shell::unset_var(self.shell, name))
                }
                Some(v) if current != Some(v.as_str()) => {
                    push_line(&mut exports, shell::set_var(self.shell, name, &v));
                }
                _ => {}
            }
        }
        let refresh_at = match active {
            Some(Active { state: fields, refresh_at, .. }) => {
                state = HookState {
                    set: state.set,
                    saved: state.saved,
                    told: state.told,
                    used: state.used,
                    ..fields
                };
                refresh_at
            }
            None => self.retry_at.map_or(0, |at| at.as_second()),
        };
        let newest = self.project_mtime.into_iter().chain(self.marker_mtime).max();
        let stamp = stamp::write(env, self.shell_pid, newest);
        // The copy of the use that commands run from this shell read; only the difference.
        let used = self.used.as_ref().and_then(|u| serde_json::to_string(u).ok());
        match (&used, &self.used_export) {
            (None, Some(_)) => push_line(&mut unsets, shell::unset_var(self.shell, USED_VAR)),
            (Some(value), current) if current.as_ref() != Some(value) => {
                push_line(&mut exports, shell::set_var(self.shell, USED_VAR, value));
            }
            _ => {}
        }
        let mut out = unsets;
        out.push_str(&exports);
        let file = self
            .project_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let marker =
            self.marker.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        let stamp = stamp.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        for (name, value) in [
            (STATE_VAR, state.encode()),
            (FILE_VAR, file),
            (MARKER_VAR, marker),
            (STAMP_VAR, stamp),
            (REFRESH_AT_VAR, refresh_at.to_string()),
        ] {
            push_line(&mut out, shell::set_local(self.shell, name, &value));
        }
        HookOutput { stdout: out, messages: std::mem::take(&mut self.messages), state }
    }
}

fn push_line(out: &mut String, line: Result<String, shell::ShellError>) {
    match line {
        Ok(line) => out.push_str(&line),
        // Names are ours and values come from files that cannot hold a NUL: not reached.
        Err(e) => tracing::warn!("{e}"),
    }
}
