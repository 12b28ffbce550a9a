//! The rows chosen lately, most recent first: `<data dir>/aws-sso/picker-history.json`. It names
//! sessions, accounts and roles (no secret), is written like every file of ours (atomically,
//! 0600) and holds at most [`MAX_ENTRIES`]. A file that cannot be read counts as empty.

use std::path::{Path, PathBuf};

use aws_sso_core::env::Environment;
use aws_sso_core::fs::{FileMode, read_if_exists, write_atomic};
use serde::{Deserialize, Serialize};

use super::Row;

/// The most rows remembered.
pub const MAX_ENTRIES: usize = 50;

/// One choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub session: Option<String>,
    pub account_id: String,
    pub role: String,
}

impl Entry {
    /// Whether `row` is this choice (a row whose roles are not known yet is its account's).
    pub fn is(&self, row: &Row) -> bool {
        self.account_id == row.account_id
            && row.role.as_ref().is_none_or(|role| *role == self.role)
            && (row.session.is_none() || row.session == self.session)
    }
}

pub fn path(env: &Environment) -> Option<PathBuf> {
    Some(aws_sso_core::dirs::data_dir(env)?.join("picker-history.json"))
}

/// The entries, most recent first; empty when there is no file or it cannot be read.
pub fn load(path: &Path) -> Vec<Entry> {
    match read_if_exists(path) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::debug!("{} is not a picker history ({e}); starting afresh", path.display());
            Vec::new()
        }),
        Ok(None) => Vec::new(),
        Err(e) => {
            tracing::debug!("{e}");
            Vec::new()
        }
    }
}

/// `entries` with `chosen` first (once), at most [`MAX_ENTRIES`].
pub fn record(mut entries: Vec<Entry>, chosen: Entry) -> Vec<Entry> {
    entries.retain(|e| *e != chosen);
    entries.insert(0, chosen);
    entries.truncate(MAX_ENTRIES);
    entries
}

/// Saves `chosen` as the most recent entry. A history that cannot be written costs only the
/// order of the next picker: said at debug level, never an error.
pub fn remember(env: &Environment, chosen: Entry) {
    let Some(path) = path(env) else { return };
    let entries = record(load(&path), chosen);
    let bytes = match serde_json::to_vec(&entries) {
        Ok(bytes) => bytes,
        Err(e) => return tracing::debug!("picker history: {e}"),
    };
    if let Err(e) = write_atomic(&path, &bytes, FileMode::Private) {
        tracing::debug!("picker history: {e}");
    }
}
