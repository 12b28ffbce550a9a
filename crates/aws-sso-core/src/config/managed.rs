//! The profiles `aws-sso-ls --write-profiles` generates: one marked block per sso-session in
//! `~/.aws/config`, rewritten on every run, with every byte outside the block left as it was.
//!
//! The flow: [`plan_profiles`] names a profile per account and role, [`render_profile_block`]
//! (or [`plan_profile_block`], which reads the file) computes the new text, [`diff`] shows it
//! for `--dry-run`, and [`write_profile_block`] writes it, keeping a backup of the file as it was
//! before our first change.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::ConfigError;
use super::edit::{lock_config_file, resolve_symlink};
use super::ini::{self, Line, LineKind};
use super::profile::{FileKind, SectionKind, identify, is_valid_name};
use crate::env::Environment;
use crate::fs::FileMode;

/// The profile-name template used when the user gives none.
pub const DEFAULT_TEMPLATE: &str = "{account_name}.{role}";

/// Appended to the config file's path to name the backup of the file before our first change.
pub const BACKUP_SUFFIX: &str = ".aws-sso-backup";

/// What the markers say after `BEGIN`/`END`, followed by the session name.
const MARKER: &str = "aws-sso-ls profiles for sso-session";

/// Begins the comment line, right after a generated profile's header, that records the
/// `--prefix` the profile was written under, quoted and escaped (`# aws-sso-ls --prefix "a-"`),
/// so that `--prune` removes only what a run with the same prefix wrote. A comment, because
/// every SDK and the AWS CLI skip comment lines inside a section.
const PREFIX_RECORD: &str = "# aws-sso-ls --prefix ";

/// How error messages name the file when the text did not come from one.
const UNNAMED_CONFIG: &str = "the AWS config file";

/// One profile to write: `[profile NAME]` for a role in an account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileSpec {
    pub name: String,
    pub account_id: String,
    pub role_name: String,
    /// The `--prefix` the name was made with, recorded in the block for `--prune`.
    pub prefix: String,
}

/// What rendering a block changed, by profile name, each list sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileBlockEdit {
    /// New in the block.
    pub added: Vec<String>,
    /// In the block before, with different lines now (a new region, or a hand edit undone).
    pub updated: Vec<String>,
    /// In the block before, the same now.
    pub unchanged: Vec<String>,
    /// In the block before, gone upstream, and removed because of `--prune`.
    pub removed: Vec<String>,
    /// In the block before, gone upstream, and kept because `--prune` was not given.
    pub kept_stale: Vec<String>,
    /// In the block before, not listed now, and kept by `--prune` because another run wrote them:
    /// they record another `--prefix`, or this run's template and prefix would not name them.
    pub other_names: Vec<String>,
    /// Not written: a section of that name exists outside the block, and the user's own wins.
    /// `default` is always one: a generated `[profile default]` would hide the user's `[default]`.
    pub conflicts: Vec<String>,
}

impl ProfileBlockEdit {
    /// `true` when the block's profiles are the same as before.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// What `--prune` may remove: the stale profiles written under this run's prefix (as the block
/// records it) that this run's template would have named, so a run with `--prefix a-` never
/// removes what a run with `--prefix b-` or no prefix wrote, even when the names look alike. A
/// profile of an older block, which records no prefix, is judged by its name alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prune<'a> {
    pub template: &'a str,
    pub prefix: &'a str,
}

impl Prune<'_> {
    /// `true` when `name` is what the template and prefix give for this account id and role
    /// under some account name (the account may be gone, and its name with it), allowing the
    /// `-<account id>` and `-2` that [`plan_profiles`] appends to tell equal names apart.
    fn would_name(&self, name: &str, account_id: &str, role: &str) -> bool {
        // Only characters a profile name keeps, so the sanitizing leaves it whole.
        const ANY: &str = "%%aws-sso-any-account%%";
        let pattern = profile_name(self.template, self.prefix, ANY, account_id, role);
        let pieces: Vec<&str> = pattern.split(ANY).collect();
        let without_number = name
            .rsplit_once('-')
            .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(|(head, _)| head);
        [Some(name), without_number].into_iter().flatten().any(|n| fills(n, &pieces))
    }

    /// `true` when a stale profile of the block, with these lines, is this run's to remove.
    fn owns(&self, name: &str, lines: &[String]) -> bool {
        let same_prefix = recorded_prefix(lines).is_none_or(|r| r == quoted(self.prefix));
        let account = value_of(lines, "sso_account_id").unwrap_or_default();
        let role = value_of(lines, "sso_role_name").unwrap_or_default();
        same_prefix && self.would_name(name, account, role)
    }
}

/// A prefix as the block records it: quoted, with every control character escaped, so any
/// prefix fits on the one comment line.
fn quoted(prefix: &str) -> String {
    format!("{prefix:?}")
}

/// The quoted prefix a profile's lines record, if they record one.
fn recorded_prefix(lines: &[String]) -> Option<&str> {
    lines.iter().find_map(|line| line.trim().strip_prefix(PREFIX_RECORD).map(str::trim))
}

/// `true` when `name` is `pieces` with a non-empty text between each two.
fn fills(name: &str, pieces: &[&str]) -> bool {
    let Some((first, rest)) = pieces.split_first() else { return false };
    let Some((last, middle)) = rest.split_last() else { return name == *first };
    let Some(mut tail) = name.strip_prefix(first) else { return false };
    for piece in middle {
        let Some(at) = tail.get(1..).and_then(|t| t.find(piece)) else { return false };
        tail = &tail[1 + at + piece.len()..];
    }
    tail.len() > last.len() && tail.ends_with(last)
}

/// The value of `key` among a section's lines (`key = value`), if any.
fn value_of<'a>(lines: &'a [String], key: &str) -> Option<&'a str> {
    lines.iter().rev().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        let k = k.trim();
        (!k.starts_with(['#', ';']) && k.eq_ignore_ascii_case(key)).then(|| v.trim())
    })
}

/// Why the block of generated profiles cannot be rewritten. Nothing is written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ManagedBlockError {
    #[error(
        "{file}, line {line}: the block of profiles for sso-session {session} begins here but has \
         no end line `# END {MARKER} {session}`. Nothing was written. Add that line where the \
         block ends, or delete the block (its BEGIN line and the profiles after it) to have it \
         written anew."
    )]
    Unterminated { file: String, line: usize, session: String },

    #[error(
        "{file}, line {line}: the end of the block of profiles for sso-session {session} has no \
         `# BEGIN {MARKER} {session}` line before it. Nothing was written. Delete this END line, \
         or put the BEGIN line back where the block starts."
    )]
    EndWithoutBegin { file: String, line: usize, session: String },

    #[error(
        "{file}, lines {first} and {second}: two blocks of profiles for sso-session {session}. \
         Nothing was written. Delete one of them, markers included."
    )]
    Repeated { file: String, first: usize, second: usize, session: String },

    #[error(
        "{file}, line {line}: a marker of the block for sso-session {other} lies inside the block \
         for sso-session {session}. Nothing was written. Move it after the line \
         `# END {MARKER} {session}`, or delete the block it belongs to."
    )]
    Overlapping { file: String, line: usize, session: String, other: String },

    #[error(
        "cannot write the profile {profile:?}: its {key} {value:?} is empty or holds spaces or \
         characters an AWS config file cannot hold. Nothing was written."
    )]
    UnwritableValue { profile: String, key: &'static str, value: String },
}

impl ManagedBlockError {
    /// Names `path` instead of "the AWS config file" in the message.
    pub fn in_file(mut self, path: &Path) -> Self {
        let name = path.display().to_string();
        match &mut self {
            Self::Unterminated { file, .. }
            | Self::EndWithoutBegin { file, .. }
            | Self::Repeated { file, .. }
            | Self::Overlapping { file, .. } => *file = name,
            Self::UnwritableValue { .. } => {}
        }
        self
    }
}

/// The placeholders a profile-name template may hold.
pub const PLACEHOLDERS: &[&str] = &["account_name", "account_id", "role", "session"];

/// A profile-name template that names a placeholder there is not.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the profile name template {template:?} has an unknown placeholder {{{unknown}}}.{} The placeholders are {}.",
    crate::names::did_you_mean(&closest.iter().map(String::as_str).collect::<Vec<_>>()),
    placeholder_list()
)]
pub struct TemplateError {
    pub template: String,
    /// What was between the braces.
    pub unknown: String,
    /// The closest placeholders, braces included.
    pub closest: Vec<String>,
}

fn placeholder_list() -> String {
    let names: Vec<String> = PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect();
    format!("{} and {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
}

/// `template` for the profiles of `session`: every `{…}` checked against [`PLACEHOLDERS`], and
/// `{session}` replaced by the session's name (made a profile name, like every value). A
/// session name holds no brace ([`is_valid_name`]), so nothing it brings is expanded again.
pub fn template_for_session(template: &str, session: &str) -> Result<String, TemplateError> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let key = &after[..close];
        if !PLACEHOLDERS.contains(&key) {
            let closest = crate::names::closest(key, PLACEHOLDERS.iter().copied())
                .into_iter()
                .map(|p| format!("{{{p}}}"))
                .collect();
            return Err(TemplateError {
                template: template.to_owned(),
                unknown: crate::shell::printable(key),
                closest,
            });
        }
        rest = &after[close + 1..];
    }
    Ok(template.replace("{session}", &sanitize(session)))
}

/// The name of the profile for `role` in an account, from `template`.
///
/// `{account_name}`, `{account_id}` and `{role}` are replaced in one pass (`{session}` is
/// replaced before, by [`template_for_session`], which also refuses unknown placeholders; an
/// account name
/// holding `{role}` is not expanded again), `prefix` goes in front, and the result is made a
/// name every SDK and shell takes: ASCII letters, digits and `-/.%@_:+`. Spaces become `-`,
/// accented Latin letters lose their accents, anything else is dropped (so are the braces of an
/// unknown placeholder). An account name with nothing left (all in another script, say) is
/// replaced by the account id; so is an empty result.
pub fn profile_name(
    template: &str,
    prefix: &str,
    account_name: &str,
    account_id: &str,
    role: &str,
) -> String {
    let id = sanitize(account_id);
    let mut name = sanitize(account_name);
    if name.is_empty() {
        name.clone_from(&id);
    }
    let expanded =
        expand(template, &[("account_name", &name), ("account_id", &id), ("role", role)]);
    let result = sanitize(&format!("{prefix}{expanded}"));
    if result.is_empty() { id } else { result }
}

/// One profile per account and role, with unique names, sorted by name (ignoring case).
///
/// When two rows get the same name (two accounts of the same name, or names that differ only
/// in characters the sanitizing drops), each of them gets the account id after the account name:
/// `Billing-111111111111.ReadOnlyAccess`. Names still equal after that (a template without the
/// account or the role) get `-2`, `-3`... in account id and role order. A repeated row is one
/// profile.
pub fn plan_profiles<I, A, N, R, S>(accounts: I, template: &str, prefix: &str) -> Vec<ProfileSpec>
where
    I: IntoIterator<Item = (A, N, R)>,
    A: AsRef<str>,
    N: AsRef<str>,
    R: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    // (account id, role) -> account name, so a repeated row counts once.
    let mut rows: BTreeMap<(String, String), String> = BTreeMap::new();
    for (id, name, roles) in accounts {
        for role in roles {
            rows.insert(
                (id.as_ref().to_owned(), role.as_ref().to_owned()),
                name.as_ref().to_owned(),
            );
        }
    }
    let named = |id: &str, name: &str, role: &str| profile_name(template, prefix, name, id, role);
    let mut specs: Vec<ProfileSpec> = rows
        .iter()
        .map(|((id, role), name)| ProfileSpec {
            name: named(id, name, role),
            account_id: id.clone(),
            role_name: role.clone(),
            prefix: prefix.to_owned(),
        })
        .collect();

    let repeated = repeated_names(&specs);
    for spec in specs.iter_mut().filter(|s| repeated.contains(&s.name)) {
        let key = (spec.account_id.clone(), spec.role_name.clone());
        let account_name = rows.get(&key).map_or("", String::as_str);
        let with_id = format!("{account_name}-{}", spec.account_id);
        let renamed = named(&spec.account_id, &with_id, &spec.role_name);
        spec.name = if renamed == spec.name {
            // The template does not use the account name: append the id to the whole name.
            sanitize(&format!("{}-{}", spec.name, spec.account_id))
        } else {
            renamed
        };
    }

    // `rows` is in (account id, role) order, so the numbering is stable from run to run.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut taken: HashSet<String> = specs.iter().map(|s| s.name.clone()).collect();
    for spec in &mut specs {
        let count = seen.entry(spec.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            let mut n = *count;
            while taken.contains(&format!("{}-{n}", spec.name)) {
                n += 1;
            }
            spec.name = format!("{}-{n}", spec.name);
            taken.insert(spec.name.clone());
        }
    }
    specs.sort_by(|a, b| sort_key(&a.name).cmp(&sort_key(&b.name)));
    specs
}

fn repeated_names(specs: &[ProfileSpec]) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut repeated = HashSet::new();
    for spec in specs {
        if !seen.insert(spec.name.as_str()) {
            repeated.insert(spec.name.clone());
        }
    }
    repeated
}

fn sort_key(name: &str) -> (String, &str) {
    (name.to_lowercase(), name)
}

/// Replaces `{key}` by its value in one pass, so values are never expanded again.
fn expand(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let found = after.find('}').and_then(|close| {
            let key = &after[..close];
            values.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v, close))
        });
        match found {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Accented Latin letters and what they become.
const LATIN: &[(&str, &str)] = &[
    ("ÀÁÂÃÄÅĀĂĄ", "A"),
    ("àáâãäåāăą", "a"),
    ("Æ", "AE"),
    ("æ", "ae"),
    ("ÇĆĈĊČ", "C"),
    ("çćĉċč", "c"),
    ("ĎĐÐ", "D"),
    ("ďđð", "d"),
    ("ÈÉÊËĒĔĖĘĚ", "E"),
    ("èéêëēĕėęě", "e"),
    ("ĜĞĠĢ", "G"),
    ("ĝğġģ", "g"),
    ("ĤĦ", "H"),
    ("ĥħ", "h"),
    ("ÌÍÎÏĨĪĬĮİ", "I"),
    ("ìíîïĩīĭįı", "i"),
    ("Ĵ", "J"),
    ("ĵ", "j"),
    ("Ķ", "K"),
    ("ķ", "k"),
    ("ĹĻĽĿŁ", "L"),
    ("ĺļľŀł", "l"),
    ("ÑŃŅŇ", "N"),
    ("ñńņň", "n"),
    ("ÒÓÔÕÖØŌŎŐ", "O"),
    ("òóôõöøōŏő", "o"),
    ("Œ", "OE"),
    ("œ", "oe"),
    ("ŔŖŘ", "R"),
    ("ŕŗř", "r"),
    ("ŚŜŞŠ", "S"),
    ("śŝşš", "s"),
    ("ß", "ss"),
    ("ŢŤŦ", "T"),
    ("ţťŧ", "t"),
    ("Þ", "Th"),
    ("þ", "th"),
    ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
    ("ùúûüũūŭůűų", "u"),
    ("Ŵ", "W"),
    ("ŵ", "w"),
    ("ÝŸŶ", "Y"),
    ("ýÿŷ", "y"),
    ("ŹŻŽ", "Z"),
    ("źżž", "z"),
];

/// A valid profile name from any text, possibly empty (see [`profile_name`]).
///
/// ASCII only, although the parser takes any Unicode letter: the Java SDK ignores profiles
/// whose names are not ASCII, and an ASCII name is easy to type in any shell.
fn sanitize(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '%' | '@' | '_' | ':' | '+') {
            out.push(c);
        } else if c == '-' || c.is_whitespace() {
            // Runs of spaces and dashes make one dash, and none at either end.
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        } else if let Some((_, ascii)) = LATIN.iter().find(|(from, _)| from.contains(c)) {
            out.push_str(ascii);
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Which marker a comment line is, and for which session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Begin,
    End,
}

fn marker(line: &Line) -> Option<(Marker, &str)> {
    if line.kind != LineKind::Comment {
        return None;
    }
    let text = line.text.trim_start().trim_start_matches(['#', ';']).trim_start();
    let (which, rest) = if let Some(rest) = text.strip_prefix("BEGIN ") {
        (Marker::Begin, rest)
    } else {
        (Marker::End, text.strip_prefix("END ")?)
    };
    let rest = rest.trim_start().strip_prefix(MARKER)?;
    let rest = rest.strip_prefix([' ', '\t'])?.trim_start();
    let end = rest.find(|c: char| c.is_whitespace() || c == '(').unwrap_or(rest.len());
    let session = &rest[..end];
    (!session.is_empty()).then_some((which, session))
}

fn begin_marker(session: &str) -> String {
    format!("# BEGIN {MARKER} {session} (generated: edits inside this block are replaced)")
}

fn end_marker(session: &str) -> String {
    format!("# END {MARKER} {session}")
}

/// Where the session's block is: the indexes of its BEGIN and END lines.
fn find_block(lines: &[Line], session: &str) -> Result<Option<(usize, usize)>, ManagedBlockError> {
    let file = UNNAMED_CONFIG.to_owned();
    let mut begin: Option<usize> = None;
    let mut block: Option<(usize, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let Some((which, name)) = marker(line) else { continue };
        if name != session {
            if begin.is_some() {
                let other = name.to_owned();
                return Err(ManagedBlockError::Overlapping {
                    file,
                    line: i + 1,
                    session: session.to_owned(),
                    other,
                });
            }
            continue;
        }
        match (which, begin, block) {
            (Marker::Begin, None, None) => begin = Some(i),
            (Marker::Begin, Some(first), _) | (Marker::Begin, None, Some((first, _))) => {
                return Err(ManagedBlockError::Repeated {
                    file,
                    first: first + 1,
                    second: i + 1,
                    session: session.to_owned(),
                });
            }
            (Marker::End, Some(start), _) => {
                block = Some((start, i));
                begin = None;
            }
            (Marker::End, None, _) => {
                return Err(ManagedBlockError::EndWithoutBegin {
                    file,
                    line: i + 1,
                    session: session.to_owned(),
                });
            }
        }
    }
    if let Some(start) = begin {
        return Err(ManagedBlockError::Unterminated {
            file,
            line: start + 1,
            session: session.to_owned(),
        });
    }
    Ok(block)
}

/// What a section header names, as a profile: `[default]` is the profile `default`.
fn profile_of(line: &Line) -> Option<&str> {
    let LineKind::Section { name } = &line.kind else { return None };
    match identify(name, FileKind::Config)? {
        (SectionKind::Profile | SectionKind::Default, name) => Some(name),
        _ => None,
    }
}

/// A value we can write after `key = ` and read back unchanged.
fn check_value(profile: &str, key: &'static str, value: &str) -> Result<(), ManagedBlockError> {
    let writable = !value.is_empty()
        && !value.starts_with(['#', ';'])
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if writable {
        Ok(())
    } else {
        Err(ManagedBlockError::UnwritableValue {
            profile: profile.to_owned(),
            key,
            value: value.to_owned(),
        })
    }
}

fn profile_lines(spec: &ProfileSpec, session: &str, region: &str) -> Vec<String> {
    let mut lines = vec![
        format!("[profile {}]", spec.name),
        format!("{PREFIX_RECORD}{}", quoted(&spec.prefix)),
        format!("sso_session = {session}"),
        format!("sso_account_id = {}", spec.account_id),
        format!("sso_role_name = {}", spec.role_name),
    ];
    if !region.is_empty() {
        lines.push(format!("region = {region}"));
    }
    lines
}

/// The lines of a section without the blank lines that end it.
fn trimmed(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

/// The sections inside a block, as `(profile name, lines)`; `None` for a section that is not a
/// profile (someone put it there by hand: it is kept as it is).
fn block_sections(lines: &[Line]) -> Vec<(Option<String>, Vec<String>)> {
    let mut sections: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for line in lines {
        if matches!(line.kind, LineKind::Section { .. } | LineKind::UnterminatedSection) {
            sections.push((profile_of(line).map(str::to_owned), Vec::new()));
        }
        // Lines before the first header are the block's own comments: they are regenerated.
        if let Some((_, texts)) = sections.last_mut() {
            texts.push(line.text.clone());
        }
    }
    sections.into_iter().map(|(name, texts)| (name, trimmed(texts))).collect()
}

/// The config text with the block of `session` holding `profiles`.
///
/// Pure: it returns the new text and what changed, and writes nothing. The block is replaced
/// where it is; a new one goes at the end, after one blank line. Lines outside the block keep
/// every byte; the block's lines use the file's line ending. Profiles of the old block that are
/// not in `profiles` stay unless `prune` names them ([`Prune`]); a profile defined outside the block is left to the
/// user (see [`ProfileBlockEdit::conflicts`]). An empty `region` writes no `region` line. A
/// block that cannot be found whole (a BEGIN without END, two blocks...) is an error naming the
/// line.
pub fn render_profile_block(
    text: &str,
    session: &str,
    region: &str,
    profiles: &[ProfileSpec],
    prune: Option<Prune<'_>>,
) -> Result<(String, ProfileBlockEdit), ConfigError> {
    if !is_valid_name(session) {
        return Err(ConfigError::InvalidName { what: "sso-session", name: session.to_owned() });
    }
    for spec in profiles {
        if !is_valid_name(&spec.name) {
            return Err(ConfigError::InvalidName { what: "profile", name: spec.name.clone() });
        }
        check_value(&spec.name, "sso_account_id", &spec.account_id)?;
        check_value(&spec.name, "sso_role_name", &spec.role_name)?;
        if !region.is_empty() {
            check_value(&spec.name, "region", region)?;
        }
    }

    let lines = ini::lex(text);
    let block = find_block(&lines, session)?;
    let inside = |i: usize| block.is_some_and(|(start, end)| (start..=end).contains(&i));
    let outside: HashSet<&str> = lines
        .iter()
        .enumerate()
        .filter(|&(i, _)| !inside(i))
        .filter_map(|(_, line)| profile_of(line))
        .collect();

    let mut old: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut foreign: Vec<Vec<String>> = Vec::new();
    if let Some((start, end)) = block {
        for (name, texts) in block_sections(&lines[start + 1..end]) {
            match name {
                Some(name) => {
                    old.insert(name, texts);
                }
                None => foreign.push(texts),
            }
        }
    }

    let mut edit = ProfileBlockEdit::default();
    let mut entries: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut wanted: HashSet<&str> = HashSet::new();
    for spec in profiles {
        if !wanted.insert(&spec.name) {
            continue;
        }
        let before = old.remove(&spec.name);
        if spec.name == "default" || outside.contains(spec.name.as_str()) {
            edit.conflicts.push(spec.name.clone());
            continue;
        }
        let new_lines = profile_lines(spec, session, region);
        match before {
            None => edit.added.push(spec.name.clone()),
            Some(before) if before == new_lines => edit.unchanged.push(spec.name.clone()),
            Some(_) => edit.updated.push(spec.name.clone()),
        }
        let (key, name) = sort_key(&spec.name);
        entries.insert((key, name.to_owned()), new_lines);
    }
    for (name, texts) in old {
        let ours = prune.map(|p| p.owns(&name, &texts));
        if ours == Some(true) {
            edit.removed.push(name);
            continue;
        }
        let (key, _) = sort_key(&name);
        entries.insert((key, name.clone()), texts);
        match ours {
            Some(_) => edit.other_names.push(name),
            None => edit.kept_stale.push(name),
        }
    }
    for list in [
        &mut edit.added,
        &mut edit.updated,
        &mut edit.unchanged,
        &mut edit.removed,
        &mut edit.kept_stale,
        &mut edit.other_names,
        &mut edit.conflicts,
    ] {
        list.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    }

    if block.is_none() && entries.is_empty() && foreign.is_empty() {
        return Ok((text.to_owned(), edit));
    }
    let mut texts = vec![begin_marker(session)];
    for section in entries.into_values().chain(foreign) {
        texts.extend(section);
        texts.push(String::new());
    }
    texts.push(end_marker(session));

    let ending = lines.iter().map(|l| l.ending).find(|e| !e.is_empty()).unwrap_or("\n");
    let out_lines = match block {
        Some((start, end)) => {
            let mut out = lines[..start].to_vec();
            // The END line keeps its own ending: a file that ended without a newline still does.
            push_lines(&mut out, texts, ending, lines[end].ending);
            out.extend_from_slice(&lines[end + 1..]);
            out
        }
        None => {
            let mut out = lines;
            if let Some(last) = out.last_mut() {
                if last.ending.is_empty() {
                    last.ending = ending;
                }
                if last.kind != LineKind::Blank {
                    out.push(Line::new(String::new(), ending));
                }
            }
            push_lines(&mut out, texts, ending, ending);
            out
        }
    };
    let mut out = String::with_capacity(text.len());
    for line in &out_lines {
        out.push_str(&line.text);
        out.push_str(line.ending);
    }
    Ok((out, edit))
}

fn push_lines(out: &mut Vec<Line>, texts: Vec<String>, ending: &'static str, last: &'static str) {
    let count = texts.len();
    out.extend(
        texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| Line::new(text, if i + 1 == count { last } else { ending })),
    );
}

/// A block rendered from the file on disk: what `--dry-run` shows and what a write would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileBlockPlan {
    /// The file to write: the config file, or the file its symlink points to.
    pub path: PathBuf,
    /// The file as it is; empty when it does not exist.
    pub old_text: String,
    pub new_text: String,
    pub edit: ProfileBlockEdit,
}

impl ProfileBlockPlan {
    /// `true` when writing would change the file.
    pub fn changes_file(&self) -> bool {
        self.old_text != self.new_text
    }
}

/// [`render_profile_block`] on the config file at `path` (a missing file counts as empty), with
/// errors naming the file.
pub fn plan_profile_block(
    path: &Path,
    session: &str,
    region: &str,
    profiles: &[ProfileSpec],
    prune: Option<Prune<'_>>,
) -> Result<ProfileBlockPlan, ConfigError> {
    let target = resolve_symlink(path);
    let old_text = match fs::read_to_string(&target) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::Read { path: target, source }),
    };
    let (new_text, edit) = render_profile_block(&old_text, session, region, profiles, prune)
        .map_err(|e| match e {
            ConfigError::ProfileBlock(e) => ConfigError::ProfileBlock(e.in_file(&target)),
            other => other,
        })?;
    Ok(ProfileBlockPlan { path: target, old_text, new_text, edit })
}

/// Plans and writes the session's block under the config file's lock, so that the file it
/// changes is the file as it is now (a parallel `configure` or `--write-profiles` is kept).
/// Returns the plan it wrote and the backup's path when one was written now.
pub fn apply_profile_block(
    env: &Environment,
    path: &Path,
    session: &str,
    region: &str,
    profiles: &[ProfileSpec],
    prune: Option<Prune<'_>>,
) -> Result<(ProfileBlockPlan, Option<PathBuf>), ConfigError> {
    let _lock = lock_config_file(env, &resolve_symlink(path))?;
    let plan = plan_profile_block(path, session, region, profiles, prune)?;
    let backup =
        if plan.changes_file() { write_profile_block(path, &plan.new_text)? } else { None };
    Ok((plan, backup))
}

/// Writes `new_text` to the config file at `path`, atomically, keeping the file's mode; a
/// symlinked file is written through the link.
///
/// Before the first change ever (no backup exists yet) the file as it is goes to
/// `<path>.aws-sso-backup`, with the same mode; the backup's path is returned when it was
/// written now. Nothing is written when `new_text` is what the file holds already.
fn write_profile_block(path: &Path, new_text: &str) -> Result<Option<PathBuf>, ConfigError> {
    let target = resolve_symlink(path);
    let current = match fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(source) => return Err(ConfigError::Read { path: target, source }),
    };
    if current.as_deref() == Some(new_text.as_bytes()) {
        return Ok(None);
    }
    let mut backup_written = None;
    if let Some(bytes) = &current {
        let backup = backup_path(path);
        let exists = match fs::symlink_metadata(&backup) {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(source) => return Err(ConfigError::Read { path: backup, source }),
        };
        if !exists {
            write_backup(&target, &backup, bytes)?;
            backup_written = Some(backup);
        }
    }
    crate::fs::write_atomic(&target, new_text.as_bytes(), FileMode::KeepExisting)
        .map_err(|e| ConfigError::Write { path: target.clone(), source: e.source })?;
    Ok(backup_written)
}

/// `<path>.aws-sso-backup`, beside the path the user knows (not the symlink's target).
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

fn write_backup(original: &Path, backup: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let write_error = |source| ConfigError::Write { path: backup.to_owned(), source };
    // Written private first, then given the original's mode: never more open than either.
    crate::fs::write_atomic(backup, bytes, FileMode::Private).map_err(|e| write_error(e.source))?;
    let permissions = fs::metadata(original)
        .map_err(|source| ConfigError::Read { path: original.to_owned(), source })?
        .permissions();
    fs::set_permissions(backup, permissions).map_err(write_error)
}

/// Lines of context around each change in [`diff`].
const CONTEXT: usize = 3;

/// How long the search for the shortest edit may take before `similar` settles for a longer one
/// (still a correct diff): only a huge rewrite of a huge file gets near it.
const DIFF_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// A unified diff of two texts, line by line: `@@ -line,count +line,count @@` hunks with `-`,
/// `+` and three lines of context. Line endings are not compared. Empty when the lines agree.
/// The edit is `similar`'s Myers diff; the hunks are written here, since `diff -u` (and
/// `similar`'s own unified format) leaves out a count of 1, which these hunks always show.
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let deadline = std::time::Instant::now().checked_add(DIFF_DEADLINE);
    let ops = similar::capture_diff_slices_deadline(similar::Algorithm::Myers, &a, &b, deadline);
    let mut out = String::new();
    for hunk in similar::group_diff_ops(ops, CONTEXT) {
        write_hunk(&mut out, &hunk, &a, &b);
    }
    out
}

fn write_hunk(out: &mut String, hunk: &[similar::DiffOp], a: &[&str], b: &[&str]) {
    let (Some(first), Some(last)) = (hunk.first(), hunk.last()) else { return };
    let old = first.old_range().start..last.old_range().end;
    let new = first.new_range().start..last.new_range().end;
    // As in `diff -u`: a hunk with no lines on one side names the line before it.
    let first_line = |lines: &std::ops::Range<usize>| lines.start + usize::from(!lines.is_empty());
    out.push_str(&format!(
        "@@ -{},{} +{},{} @@\n",
        first_line(&old),
        old.len(),
        first_line(&new),
        new.len()
    ));
    let mut push = |sign: char, lines: &[&str]| {
        for line in lines {
            out.push(sign);
            out.push_str(line);
            out.push('\n');
        }
    };
    for op in hunk {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => push(' ', &a[old]),
            similar::DiffTag::Delete => push('-', &a[old]),
            similar::DiffTag::Insert => push('+', &b[new]),
            similar::DiffTag::Replace => {
                push('-', &a[old]);
                push('+', &b[new]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AwsConfig;

    /// Comments everywhere, inline comments, odd spacing, sub-properties, an `[sso-session]`, a
    /// `[services]` block, a section the SDKs ignore, and no final newline.
    const BUSY_LF: &str = "# My AWS config
; managed by hand

[default]
region = us-east-1   # home region
output=json

[profile dev]   ; the dev account
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev
s3 =
  addressing_style = path

  max_concurrent_requests = 20
region = eu-west-1 ; inline

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[services local]
sso =
  endpoint_url = http://127.0.0.1:4566
sso_oidc =
  endpoint_url = http://127.0.0.1:4566

[unrelated thing]
x = 1
# a last comment, and no final newline";

    fn busy() -> String {
        BUSY_LF.replace('\n', "\r\n")
    }

    fn spec(name: &str, account_id: &str, role_name: &str) -> ProfileSpec {
        ProfileSpec {
            name: name.to_owned(),
            account_id: account_id.to_owned(),
            role_name: role_name.to_owned(),
            prefix: String::new(),
        }
    }

    /// What `--prune` removes with the default template and no prefix.
    const DEFAULT_PRUNE: Prune<'static> = Prune { template: DEFAULT_TEMPLATE, prefix: "" };

    fn corp_profiles() -> Vec<ProfileSpec> {
        vec![
            spec("Billing.ReadOnlyAccess", "222222222222", "ReadOnlyAccess"),
            spec("Prod.AdministratorAccess", "333333333333", "AdministratorAccess"),
            spec("Prod.ReadOnlyAccess", "333333333333", "ReadOnlyAccess"),
        ]
    }

    fn render(
        text: &str,
        session: &str,
        profiles: &[ProfileSpec],
        prune: bool,
    ) -> (String, ProfileBlockEdit) {
        let prune = prune.then_some(DEFAULT_PRUNE);
        render_profile_block(text, session, "eu-west-1", profiles, prune).expect("renders")
    }

    fn parse(text: &str) -> AwsConfig {
        AwsConfig::parse(Some(text), None).expect("the result parses")
    }

    /// `(before, block, after)`: the block is its BEGIN line through its END line and ending.
    fn cut<'a>(text: &'a str, session: &str) -> (&'a str, &'a str, &'a str) {
        let begin = text
            .find(&format!("# BEGIN aws-sso-ls profiles for sso-session {session} "))
            .expect("a BEGIN line");
        let end_marker = format!("# END aws-sso-ls profiles for sso-session {session}");
        let end = begin + text[begin..].find(&end_marker).expect("an END line");
        let end = match text[end..].find('\n') {
            Some(newline) => end + newline + 1,
            None => text.len(),
        };
        (&text[..begin], &text[begin..end], &text[end..])
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn assert_generated(config: &AwsConfig, spec: &ProfileSpec, session: &str) {
        let profile = config.profile(&spec.name).unwrap_or_else(|| panic!("{}", spec.name));
        assert_eq!(profile.get("sso_session"), Some(session), "{}", spec.name);
        assert_eq!(profile.get("sso_account_id"), Some(spec.account_id.as_str()));
        assert_eq!(profile.get("sso_role_name"), Some(spec.role_name.as_str()));
        assert_eq!(profile.get("region"), Some("eu-west-1"));
        assert_eq!(profile.properties().count(), 4, "{}", spec.name);
    }

    #[test]
    fn a_template_with_an_unknown_placeholder_names_the_valid_ones_and_the_closest() {
        let err = template_for_session("{acount_name}.{role}", "corp").expect_err("typo");
        assert_eq!(
            err.to_string(),
            "the profile name template \"{acount_name}.{role}\" has an unknown placeholder \
             {acount_name}. Did you mean {account_name}? The placeholders are {account_name}, \
             {account_id}, {role} and {session}."
        );
        let err = template_for_session("{x}", "corp").expect_err("unknown");
        assert!(!err.to_string().contains("Did you mean"), "{err}");
        assert_eq!(
            template_for_session("{session}.{account_name}.{role}", "corp").expect("valid"),
            "corp.{account_name}.{role}"
        );
        assert_eq!(
            template_for_session("plain-{role", "corp").expect("no brace pair"),
            "plain-{role"
        );
        let specs = plan_profiles(
            [("111111111111", "Billing", ["Admin"])],
            &template_for_session("{session}-{account_id}-{role}", "corp").expect("valid"),
            "",
        );
        assert_eq!(specs[0].name, "corp-111111111111-Admin");
    }

    #[test]
    fn a_new_block_goes_at_the_end_and_leaves_every_other_byte() {
        let original = busy();
        let (out, edit) = render(&original, "corp", &corp_profiles(), false);
        let (before, block, after) = cut(&out, "corp");
        // The file had no final newline: its last line gets one, then one blank line.
        assert_eq!(before, format!("{original}\r\n\r\n"));
        assert_eq!(after, "");
        assert_eq!(
            block,
            "# BEGIN aws-sso-ls profiles for sso-session corp (generated: edits inside this \
             block are replaced)\r\n\
             [profile Billing.ReadOnlyAccess]\r\n\
             # aws-sso-ls --prefix \"\"\r\n\
             sso_session = corp\r\n\
             sso_account_id = 222222222222\r\n\
             sso_role_name = ReadOnlyAccess\r\n\
             region = eu-west-1\r\n\
             \r\n\
             [profile Prod.AdministratorAccess]\r\n\
             # aws-sso-ls --prefix \"\"\r\n\
             sso_session = corp\r\n\
             sso_account_id = 333333333333\r\n\
             sso_role_name = AdministratorAccess\r\n\
             region = eu-west-1\r\n\
             \r\n\
             [profile Prod.ReadOnlyAccess]\r\n\
             # aws-sso-ls --prefix \"\"\r\n\
             sso_session = corp\r\n\
             sso_account_id = 333333333333\r\n\
             sso_role_name = ReadOnlyAccess\r\n\
             region = eu-west-1\r\n\
             \r\n\
             # END aws-sso-ls profiles for sso-session corp\r\n"
        );
        assert_eq!(
            edit,
            ProfileBlockEdit {
                added: names(&[
                    "Billing.ReadOnlyAccess",
                    "Prod.AdministratorAccess",
                    "Prod.ReadOnlyAccess"
                ]),
                ..ProfileBlockEdit::default()
            }
        );

        let config = parse(&out);
        for spec in corp_profiles() {
            assert_generated(&config, &spec, "corp");
        }
        let before = parse(&original);
        assert_eq!(config.profile("dev"), before.profile("dev"));
        assert_eq!(config.profile("default"), before.profile("default"));
        assert_eq!(config.services("local"), before.services("local"));
        assert_eq!(config.sso_session("corp").expect("session").region, "eu-west-1");
    }

    #[test]
    fn updating_the_block_changes_nothing_outside_it_and_keeps_its_place() {
        // The user moved the block above their own sections, which must stay byte for byte.
        let (with_block, _) = render("", "corp", &corp_profiles(), false);
        let original = format!("{}{}", with_block.replace('\n', "\r\n"), busy());
        let original = original.replace("\r\r\n", "\r\n");
        let (old_before, _, old_after) = cut(&original, "corp");
        assert!(old_after.starts_with("# My AWS config"), "{old_after}");

        let mut profiles = corp_profiles();
        profiles.remove(0);
        profiles.push(spec("Sandbox.PowerUserAccess", "444444444444", "PowerUserAccess"));
        let (out, edit) =
            render_profile_block(&original, "corp", "us-east-2", &profiles, None).expect("ok");
        let (before, block, after) = cut(&out, "corp");
        assert_eq!((before, after), (old_before, old_after));
        assert!(block.contains("[profile Sandbox.PowerUserAccess]\r\n"), "{block}");
        assert!(!block.contains("\r\n\n") && !block.replace("\r\n", "").contains('\n'));
        assert_eq!(edit.added, names(&["Sandbox.PowerUserAccess"]));
        assert_eq!(edit.updated, names(&["Prod.AdministratorAccess", "Prod.ReadOnlyAccess"]));
        assert_eq!(edit.kept_stale, names(&["Billing.ReadOnlyAccess"]));
        assert!(edit.removed.is_empty() && edit.unchanged.is_empty());

        let config = parse(&out);
        let prod = config.profile("Prod.ReadOnlyAccess").expect("prod");
        assert_eq!(prod.get("region"), Some("us-east-2"));
        // Kept without --prune, as it was.
        let billing = config.profile("Billing.ReadOnlyAccess").expect("kept");
        assert_eq!(billing.get("region"), Some("eu-west-1"));
        assert_eq!(config.profile("dev"), parse(&busy()).profile("dev"));
    }

    #[test]
    fn a_block_in_an_lf_file_with_a_final_newline_is_appended_after_one_blank_line() {
        let (out, _) = render("[default]\nregion = x\n", "corp", &corp_profiles()[..1], false);
        assert!(out.starts_with("[default]\nregion = x\n\n# BEGIN "), "{out}");
        assert!(out.ends_with("\n\n# END aws-sso-ls profiles for sso-session corp\n"), "{out}");
        assert!(!out.contains('\r'));

        let (out, _) = render("[default]\nregion = x\n\n", "corp", &corp_profiles()[..1], false);
        assert!(out.starts_with("[default]\nregion = x\n\n# BEGIN "), "{out}");

        let (out, _) = render("", "corp", &corp_profiles()[..1], false);
        assert!(out.starts_with("# BEGIN "), "{out}");
        assert_generated(&parse(&out), &corp_profiles()[0], "corp");
    }

    #[test]
    fn running_again_with_the_same_input_changes_nothing() {
        for original in [busy(), String::new(), BUSY_LF.to_owned()] {
            let (first, _) = render(&original, "corp", &corp_profiles(), false);
            let (second, edit) = render(&first, "corp", &corp_profiles(), false);
            assert_eq!(second, first);
            assert!(edit.is_unchanged(), "{edit:?}");
            assert_eq!(edit.unchanged.len(), 3);
            let (third, _) = render(&second, "corp", &corp_profiles(), true);
            assert_eq!(third, first);
        }
    }

    #[test]
    fn nothing_to_write_and_no_block_leaves_the_text_alone() {
        let (out, edit) = render(&busy(), "corp", &[], true);
        assert_eq!(out, busy());
        assert_eq!(edit, ProfileBlockEdit::default());
    }

    #[test]
    fn prune_removes_profiles_gone_upstream_and_no_prune_keeps_them() {
        let (first, _) = render(&busy(), "corp", &corp_profiles(), false);
        let remaining = &corp_profiles()[1..];

        let (kept, edit) = render(&first, "corp", remaining, false);
        assert_eq!(kept, first);
        assert_eq!(edit.kept_stale, names(&["Billing.ReadOnlyAccess"]));
        assert!(edit.removed.is_empty());
        assert!(parse(&kept).profile("Billing.ReadOnlyAccess").is_some());

        let (pruned, edit) = render(&first, "corp", remaining, true);
        assert_eq!(edit.removed, names(&["Billing.ReadOnlyAccess"]));
        assert!(edit.kept_stale.is_empty());
        let config = parse(&pruned);
        assert!(config.profile("Billing.ReadOnlyAccess").is_none());
        for spec in remaining {
            assert_generated(&config, spec, "corp");
        }
        assert_eq!(cut(&pruned, "corp").0, cut(&first, "corp").0);
        assert!(!pruned.contains("222222222222"));

        // Everything pruned: the empty block stays, to keep its place.
        let (empty, edit) = render(&pruned, "corp", &[], true);
        assert_eq!(edit.removed.len(), 2);
        assert_eq!(
            cut(&empty, "corp").1,
            "# BEGIN aws-sso-ls profiles for sso-session corp (generated: edits inside this \
             block are replaced)\r\n# END aws-sso-ls profiles for sso-session corp\r\n"
        );
        assert_eq!(parse(&empty).profile_names().collect::<Vec<_>>(), ["default", "dev"]);
    }

    #[test]
    fn a_profile_the_user_defined_outside_the_block_is_not_duplicated() {
        let mut profiles = corp_profiles();
        profiles.push(spec("dev", "111111111111", "Dev"));
        profiles.push(spec("default", "111111111111", "Dev"));
        let (out, edit) = render(&busy(), "corp", &profiles, false);
        assert_eq!(edit.conflicts, names(&["default", "dev"]));
        let (_, block, _) = cut(&out, "corp");
        assert!(!block.contains("[profile dev]") && !block.contains("default"), "{block}");
        assert_eq!(parse(&out).profile("dev"), parse(&busy()).profile("dev"));

        // A profile generated before and then defined by the user leaves the block.
        let (first, _) = render("", "corp", &corp_profiles(), false);
        let own = format!("{first}\n[profile Prod.ReadOnlyAccess]\nregion = mine\n");
        let (out, edit) = render(&own, "corp", &corp_profiles(), false);
        assert_eq!(edit.conflicts, names(&["Prod.ReadOnlyAccess"]));
        assert!(edit.kept_stale.is_empty());
        let config = parse(&out);
        let own_profile = config.profile("Prod.ReadOnlyAccess").expect("the user's");
        assert_eq!(own_profile.properties().collect::<Vec<_>>(), [("region", "mine")]);
    }

    #[test]
    fn duplicate_account_names_get_the_account_id() {
        let accounts = [
            ("111111111111", "Billing", vec!["ReadOnlyAccess", "Admin"]),
            ("999999999999", "Billing", vec!["ReadOnlyAccess"]),
            ("555555555555", "Prod", vec!["Admin"]),
        ];
        let specs = plan_profiles(accounts, DEFAULT_TEMPLATE, "");
        assert_eq!(
            specs,
            vec![
                spec("Billing-111111111111.ReadOnlyAccess", "111111111111", "ReadOnlyAccess"),
                spec("Billing-999999999999.ReadOnlyAccess", "999999999999", "ReadOnlyAccess"),
                spec("Billing.Admin", "111111111111", "Admin"),
                spec("Prod.Admin", "555555555555", "Admin"),
            ]
        );
        let (out, _) = render(&busy(), "corp", &specs, false);
        let config = parse(&out);
        for spec in &specs {
            assert_generated(&config, spec, "corp");
        }
    }

    #[test]
    fn names_that_only_differ_in_dropped_characters_are_told_apart() {
        let accounts =
            [("111111111111", "Prod EU", ["Admin"]), ("222222222222", "Prod-EU", ["Admin"])];
        let specs = plan_profiles(accounts, DEFAULT_TEMPLATE, "");
        let got: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, ["Prod-EU-111111111111.Admin", "Prod-EU-222222222222.Admin"]);

        // A template without the account: the id goes at the end; without the role: a number.
        let accounts = [("111111111111", "A", ["Admin"]), ("222222222222", "B", ["Admin"])];
        let specs = plan_profiles(accounts, "{role}", "");
        let got: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, ["Admin-111111111111", "Admin-222222222222"]);
        let specs = plan_profiles([("111111111111", "A", ["Admin", "Read"])], "{account_name}", "");
        let got: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, ["A-111111111111", "A-111111111111-2"]);

        // A number another row's name already has is skipped.
        let accounts = [("1", "A", vec!["x", "y", "z"]), ("2", "A-1-2", vec!["x"])];
        let specs = plan_profiles(accounts, "{account_name}", "");
        let got: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, ["A-1", "A-1-2", "A-1-3", "A-1-4"]);
        assert_eq!(specs[1].account_id, "2");
    }

    #[test]
    fn plan_is_sorted_and_a_repeated_row_is_one_profile() {
        let accounts =
            [("2", "zeta", vec!["b", "a"]), ("1", "Alpha", vec!["x"]), ("2", "zeta", vec!["a"])];
        let specs = plan_profiles(accounts, DEFAULT_TEMPLATE, "sso-");
        let got: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, ["sso-Alpha.x", "sso-zeta.a", "sso-zeta.b"]);
    }

    #[test]
    fn hostile_names_give_valid_profile_names_that_re_parse() {
        let cases = [
            ("O'Brien \"Ops\"", "OBrien-Ops"),
            ("$(rm -rf /) `id`", "rm-rf-/-id"),
            ("a; b;c", "a-bc"),
            ("Café Zürich – Ærø", "Cafe-Zurich-AEro"),
            ("[prod] ]x[", "prod-x"),
            ("  spaced   out  ", "spaced-out"),
            ("営業部", "123456789012"),
            ("#;=", "123456789012"),
        ];
        for (account_name, expected) in cases {
            let name = profile_name(DEFAULT_TEMPLATE, "", account_name, "123456789012", "Admin");
            let expected = format!("{expected}.Admin");
            assert_eq!(name, expected, "for {account_name:?}");
            assert!(is_valid_name(&name), "{name}");
            assert!(name.is_ascii());
        }
        let accounts: Vec<(String, &str, Vec<&str>)> = cases
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (format!("{i:012}"), *name, vec!["Admin"]))
            .collect();
        let specs = plan_profiles(accounts, DEFAULT_TEMPLATE, "");
        assert_eq!(specs.len(), cases.len());
        let (out, _) = render(&busy(), "corp", &specs, false);
        let config = parse(&out);
        for spec in &specs {
            assert_generated(&config, spec, "corp");
        }
    }

    #[test]
    fn templates_expand_each_placeholder_once_with_the_prefix_in_front() {
        let name = |template, account_name| {
            profile_name(template, "work/", account_name, "123456789012", "Admin")
        };
        assert_eq!(name("{account_id}:{role}", "x"), "work/123456789012:Admin");
        assert_eq!(name("{account_name}", "{role}"), "work/role");
        assert_eq!(name("{unknown}-{role}", "x"), "work/unknown-Admin");
        assert_eq!(name("", "x"), "work/");
        assert_eq!(profile_name("", "", "x", "123456789012", "Admin"), "123456789012");
        assert_eq!(profile_name("{role}", "", "x", "1", "Role=A,B@c"), "RoleAB@c");
    }

    #[test]
    fn two_sessions_blocks_coexist() {
        let (one, _) = render(&busy(), "corp", &corp_profiles(), false);
        let other = [spec("Lab.Admin", "777777777777", "Admin")];
        let (two, edit) = render(&one, "lab", &other, false);
        assert_eq!(edit.added, names(&["Lab.Admin"]));
        assert_eq!(cut(&two, "lab").0, format!("{one}\r\n"));
        let config = parse(&two);
        assert_generated(&config, &other[0], "lab");
        for spec in corp_profiles() {
            assert_generated(&config, &spec, "corp");
        }

        // Updating the first block leaves the second one, and all else, as it was.
        let (three, edit) = render(&two, "corp", &corp_profiles()[..1], true);
        assert_eq!(edit.removed.len(), 2);
        let (before, _, after) = cut(&three, "corp");
        let (old_before, _, old_after) = cut(&two, "corp");
        assert_eq!((before, after), (old_before, old_after));
        assert!(after.contains("[profile Lab.Admin]"));

        // The same name in another session's block is that block's: not written twice.
        let clash = [spec("Billing.ReadOnlyAccess", "888888888888", "ReadOnlyAccess")];
        let (four, edit) = render(&three, "lab", &clash, true);
        assert_eq!(edit.conflicts, names(&["Billing.ReadOnlyAccess"]));
        assert_eq!(edit.removed, names(&["Lab.Admin"]));
        assert_eq!(
            parse(&four).profile("Billing.ReadOnlyAccess").and_then(|p| p.get("sso_session")),
            Some("corp")
        );
    }

    #[test]
    fn a_begin_without_end_is_refused_with_the_line_and_the_fix() {
        let (out, _) = render(&busy(), "corp", &corp_profiles(), false);
        let broken = out.replace("# END aws-sso-ls profiles for sso-session corp\r\n", "");
        let err = render_profile_block(&broken, "corp", "eu-west-1", &corp_profiles(), None)
            .expect_err("refused")
            .to_string();
        let line = busy().lines().count() + 2;
        assert!(err.contains(&format!("the AWS config file, line {line}:")), "{err}");
        assert!(err.contains("Nothing was written"), "{err}");
        assert!(err.contains("# END aws-sso-ls profiles for sso-session corp"), "{err}");

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config");
        fs::write(&path, &broken).expect("write");
        let err = plan_profile_block(&path, "corp", "eu-west-1", &corp_profiles(), None)
            .expect_err("refused")
            .to_string();
        assert!(err.contains(&format!("{}, line {line}:", path.display())), "{err}");
        assert_eq!(fs::read_to_string(&path).expect("read"), broken);
    }

    #[test]
    fn other_broken_blocks_are_refused() {
        let (out, _) = render("", "corp", &corp_profiles()[..1], false);
        let end = "# END aws-sso-ls profiles for sso-session corp\n";
        let refused = |text: &str| {
            render_profile_block(text, "corp", "eu-west-1", &corp_profiles(), None)
                .expect_err("refused")
                .to_string()
        };

        let no_begin = out.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>();
        assert!(refused(&no_begin).contains("line 8: the end of the block"), "{no_begin}");

        let twice = format!("{out}\n{out}");
        let err = refused(&twice);
        assert!(err.contains("lines 1 and 11: two blocks"), "{err}");

        let (lab, _) = render("", "lab", &[spec("Lab.Admin", "7", "Admin")], false);
        let nested = out.replace(end, &format!("{lab}{end}"));
        let err = refused(&nested);
        assert!(err.contains("line 9: a marker of the block for sso-session lab"), "{err}");

        // The other session's markers alone are not this session's business.
        let (ok, _) = render(&lab, "corp", &corp_profiles()[..1], false);
        assert!(ok.starts_with(&lab));
    }

    #[test]
    fn values_that_cannot_be_written_are_refused() {
        let bad = [spec("ok", "1111", "Read Only")];
        let err = render_profile_block("", "corp", "eu-west-1", &bad, None).expect_err("space");
        assert!(err.to_string().contains("sso_role_name \"Read Only\""), "{err}");
        let bad = [spec("ok", "#1111", "Admin")];
        assert!(render_profile_block("", "corp", "eu-west-1", &bad, None).is_err());
        let bad = [spec("not ok", "1111", "Admin")];
        assert!(render_profile_block("", "corp", "eu-west-1", &bad, None).is_err());
        assert!(render_profile_block("", "co rp", "eu-west-1", &[], None).is_err());
        let good = [spec("ok", "1111", "Admin")];
        assert!(render_profile_block("", "corp", "eu west", &good, None).is_err());
        let (out, _) = render_profile_block("", "corp", "", &good, None).expect("no region");
        assert_eq!(parse(&out).profile("ok").and_then(|p| p.get("region")), None);
    }

    #[test]
    fn hand_edits_inside_the_block_are_replaced() {
        let (first, _) = render(&busy(), "corp", &corp_profiles(), false);
        let edited = first.replace(
            "sso_role_name = AdministratorAccess\r\n",
            "sso_role_name = AdministratorAccess\r\n# my note\r\noutput = text\r\n",
        );
        let (out, edit) = render(&edited, "corp", &corp_profiles(), false);
        assert_eq!(out, first);
        assert_eq!(edit.updated, names(&["Prod.AdministratorAccess"]));
    }

    #[test]
    fn a_block_ending_the_file_without_a_newline_keeps_lacking_one() {
        let (first, _) = render("[default]\nregion = x\n", "corp", &corp_profiles(), false);
        let text = first.strip_suffix('\n').expect("ends with a newline");
        let (out, edit) = render(text, "corp", &corp_profiles()[..1], true);
        assert!(out.ends_with("\n# END aws-sso-ls profiles for sso-session corp"), "{out}");
        assert_eq!(edit.removed.len(), 2);
        assert_eq!(render(&out, "corp", &corp_profiles()[..1], true).0, out);
    }

    #[test]
    fn a_section_that_is_not_a_profile_put_inside_the_block_is_kept() {
        let (first, _) = render("", "corp", &corp_profiles()[..1], false);
        let text = first.replace(
            "# END",
            "[sso-session lab]\nsso_start_url = https://lab.awsapps.com/start\nsso_region = x\n# END",
        );
        let (out, edit) = render(&text, "corp", &corp_profiles(), true);
        assert!(edit.removed.is_empty());
        let config = parse(&out);
        assert_eq!(config.sso_session("lab").expect("kept").region, "x");
        for spec in corp_profiles() {
            assert_generated(&config, &spec, "corp");
        }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn the_backup_is_written_once_and_keeps_the_original_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config");
        fs::write(&path, busy()).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        }

        let plan =
            plan_profile_block(&path, "corp", "eu-west-1", &corp_profiles(), None).expect("plan");
        assert_eq!(plan.old_text, busy());
        assert!(plan.changes_file());
        let backup = write_profile_block(&path, &plan.new_text).expect("written");
        let expected = dir.path().join("config.aws-sso-backup");
        assert_eq!(backup.as_deref(), Some(expected.as_path()));
        assert_eq!(fs::read(&expected).expect("backup"), busy().as_bytes());
        assert_eq!(fs::read_to_string(&path).expect("config"), plan.new_text);
        #[cfg(unix)]
        {
            assert_eq!(mode(&expected), 0o640);
            assert_eq!(mode(&path), 0o640);
        }

        // The same text again: nothing written, not even a temporary file.
        assert_eq!(write_profile_block(&path, &plan.new_text).expect("no-op"), None);
        let plan =
            plan_profile_block(&path, "corp", "eu-west-1", &corp_profiles(), None).expect("plan");
        assert!(!plan.changes_file());

        // A later change keeps the first backup as it was.
        let plan = plan_profile_block(
            &path,
            "corp",
            "eu-west-1",
            &corp_profiles()[..1],
            Some(DEFAULT_PRUNE),
        )
        .expect("plan");
        assert_eq!(write_profile_block(&path, &plan.new_text).expect("written"), None);
        assert_eq!(fs::read(&expected).expect("backup"), busy().as_bytes());
        assert_eq!(fs::read_to_string(&path).expect("config"), plan.new_text);

        let mut files: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["config", "config.aws-sso-backup"]);
    }

    #[test]
    fn a_missing_config_file_is_created_without_a_backup() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".aws").join("config");
        let plan =
            plan_profile_block(&path, "corp", "eu-west-1", &corp_profiles(), None).expect("plan");
        assert_eq!(plan.old_text, "");
        assert_eq!(write_profile_block(&path, &plan.new_text).expect("written"), None);
        assert!(!backup_path(&path).exists());
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        assert_generated(
            &parse(&fs::read_to_string(&path).expect("read")),
            &corp_profiles()[0],
            "corp",
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_is_written_through_the_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("dotfiles-config");
        fs::write(&real, "[default]\nregion = a\n").expect("write");
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let plan =
            plan_profile_block(&link, "corp", "eu-west-1", &corp_profiles(), None).expect("plan");
        let backup = write_profile_block(&link, &plan.new_text).expect("written");
        assert_eq!(backup, Some(dir.path().join("config.aws-sso-backup")));
        assert!(fs::symlink_metadata(&link).expect("link").file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).expect("read"), plan.new_text);
    }

    #[test]
    fn the_diff_shows_only_the_block_lines() {
        let (first, _) = render(&busy(), "corp", &corp_profiles(), false);
        let mut profiles = corp_profiles();
        profiles[1].role_name = "PowerUserAccess".to_owned();
        profiles[1].name = "Prod.PowerUserAccess".to_owned();
        let (second, _) = render(&first, "corp", &profiles, true);
        let shown = diff(&first, &second);
        assert_eq!(
            shown,
            "@@ -38,11 +38,11 @@
 sso_role_name = ReadOnlyAccess
 region = eu-west-1
 
-[profile Prod.AdministratorAccess]
+[profile Prod.PowerUserAccess]
 # aws-sso-ls --prefix \"\"
 sso_session = corp
 sso_account_id = 333333333333
-sso_role_name = AdministratorAccess
+sso_role_name = PowerUserAccess
 region = eu-west-1
 
 [profile Prod.ReadOnlyAccess]
"
        );

        // A new block: only added lines, after the file's last lines as context.
        let shown = diff(&busy(), &first);
        let changed: Vec<&str> = shown.lines().filter(|l| l.starts_with(['-', '+'])).collect();
        let (_, block, _) = cut(&first, "corp");
        let mut expected = vec!["+".to_owned()];
        expected.extend(block.lines().map(|l| format!("+{l}")));
        assert_eq!(changed, expected);
        assert!(shown.starts_with("@@ -29,3 +29,27 @@\n [unrelated thing]\n x = 1\n"), "{shown}");
        assert_eq!(diff(&first, &first), "");
    }

    #[test]
    fn diff_hunks_number_lines_like_diff_u() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        let new = "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
        assert_eq!(
            diff(old, new),
            "@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n d\n@@ -10,3 +10,4 @@\n j\n k\n l\n+m\n"
        );
        assert_eq!(diff("", "x\n"), "@@ -0,0 +1,1 @@\n+x\n");
        assert_eq!(diff("x\ny\n", "y\n"), "@@ -1,2 +1,1 @@\n-x\n y\n");
        // Changes closer than twice the context make one hunk.
        assert_eq!(
            diff("1\n2\n3\n4\n5\n6\n7\n8\n", "x\n2\n3\n4\n5\n6\n7\ny\n"),
            "@@ -1,8 +1,8 @@\n-1\n+x\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+y\n"
        );
    }

    #[test]
    fn a_large_diff_is_still_correct() {
        let old: String = (0..3000).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("line {}\n", i * 7 % 3001)).collect();
        let shown = diff(&old, &new);
        let removed = shown.lines().filter(|l| l.starts_with('-')).count();
        let added = shown.lines().filter(|l| l.starts_with('+')).count();
        let kept = shown.lines().filter(|l| l.starts_with(' ')).count();
        assert_eq!(removed + kept, 3000);
        assert_eq!(added + kept, 3000);

        // A few changes among many lines stay small.
        let new = old.replace("line 1500\n", "changed\n");
        assert_eq!(diff(&old, &new).lines().filter(|l| !l.starts_with(' ')).count(), 3);
    }

    #[test]
    fn prune_under_one_prefix_keeps_the_profiles_of_another() {
        let prefixed = |prefix: &str| -> Vec<ProfileSpec> {
            let rows = [
                ("222222222222", "Billing", vec!["ReadOnlyAccess"]),
                ("333333333333", "Prod", vec!["AdministratorAccess", "ReadOnlyAccess"]),
            ];
            plan_profiles(rows, DEFAULT_TEMPLATE, prefix)
        };
        let a = prefixed("a-");
        let b = prefixed("b-");
        let (first, _) = render_profile_block("", "corp", "eu-west-1", &a, None).expect("a");
        let (both, _) = render_profile_block(&first, "corp", "eu-west-1", &b, None).expect("b");

        // Billing is gone: b- prunes its own Billing profile and leaves every a- profile.
        let prune_b = Some(Prune { template: DEFAULT_TEMPLATE, prefix: "b-" });
        let (out, edit) =
            render_profile_block(&both, "corp", "eu-west-1", &b[1..], prune_b).expect("pruned");
        assert_eq!(edit.removed, names(&["b-Billing.ReadOnlyAccess"]));
        assert_eq!(edit.other_names.len(), 3, "{edit:?}");
        let config = parse(&out);
        for spec in &a {
            assert!(config.profile(&spec.name).is_some(), "{} was removed", spec.name);
        }
    }

    #[test]
    fn prune_without_a_prefix_keeps_what_a_prefix_wrote_though_its_template_could_name_it() {
        let rows = || {
            [
                ("222222222222", "Billing", vec!["ReadOnlyAccess"]),
                ("333333333333", "Prod", vec!["ReadOnlyAccess"]),
            ]
        };
        let a = plan_profiles(rows(), DEFAULT_TEMPLATE, "a-");
        let (first, _) = render_profile_block("", "corp", "eu-west-1", &a, None).expect("a");
        assert!(
            first.contains("[profile a-Billing.ReadOnlyAccess]\n# aws-sso-ls --prefix \"a-\"\n")
        );

        // No prefix, and Billing is gone: `a-Billing` could be the account name, but the block
        // says a- wrote those profiles, so this run keeps them.
        let plain = plan_profiles(rows(), DEFAULT_TEMPLATE, "");
        let prune = Some(Prune { template: DEFAULT_TEMPLATE, prefix: "" });
        let (out, edit) =
            render_profile_block(&first, "corp", "eu-west-1", &plain[1..], prune).expect("pruned");
        assert_eq!(edit.removed, Vec::<String>::new(), "{edit:?}");
        assert_eq!(edit.other_names, names(&["a-Billing.ReadOnlyAccess", "a-Prod.ReadOnlyAccess"]));
        let config = parse(&out);
        for spec in &a {
            assert!(config.profile(&spec.name).is_some(), "{} was removed", spec.name);
        }

        // The same run with a-: its own stale profile goes, and nothing else.
        let prune_a = Some(Prune { template: DEFAULT_TEMPLATE, prefix: "a-" });
        let (_, edit) =
            render_profile_block(&out, "corp", "eu-west-1", &a[1..], prune_a).expect("pruned");
        assert_eq!(edit.removed, names(&["a-Billing.ReadOnlyAccess"]));
        assert_eq!(edit.other_names, names(&["Prod.ReadOnlyAccess"]));

        // A prefix with a line break is recorded escaped, on its one line.
        let odd = plan_profiles(rows(), DEFAULT_TEMPLATE, "x\n");
        let (text, _) = render_profile_block("", "corp", "eu-west-1", &odd, None).expect("odd");
        assert!(text.contains("# aws-sso-ls --prefix \"x\\n\"\n"), "{text}");
    }

    #[test]
    fn a_block_written_before_prefixes_were_recorded_is_pruned_by_name() {
        let old = "# BEGIN aws-sso-ls profiles for sso-session corp (generated: edits inside this \
                   block are replaced)\n\
                   [profile Gone.Admin]\n\
                   sso_session = corp\n\
                   sso_account_id = 111111111111\n\
                   sso_role_name = Admin\n\
                   \n\
                   [profile dev-Gone.Admin]\n\
                   sso_session = corp\n\
                   sso_account_id = 111111111111\n\
                   sso_role_name = Admin\n\
                   \n\
                   # END aws-sso-ls profiles for sso-session corp\n";
        let prune = Some(Prune { template: DEFAULT_TEMPLATE, prefix: "dev-" });
        let (_, edit) = render_profile_block(old, "corp", "eu-west-1", &[], prune).expect("pruned");
        assert_eq!(edit.removed, names(&["dev-Gone.Admin"]));
        assert_eq!(edit.other_names, names(&["Gone.Admin"]));
    }

    #[test]
    fn prune_recognizes_the_names_its_template_gives_whatever_the_account_name() {
        let prune = Prune { template: DEFAULT_TEMPLATE, prefix: "dev-" };
        assert!(prune.would_name("dev-Gone.Admin", "111111111111", "Admin"));
        assert!(prune.would_name("dev-Same-111111111111.Admin", "111111111111", "Admin"));
        assert!(!prune.would_name("ops-Gone.Admin", "111111111111", "Admin"));
        assert!(!prune.would_name("dev-Gone.ReadOnly", "111111111111", "Admin"));
        assert!(!prune.would_name("dev-.Admin", "111111111111", "Admin"));
        let by_id = Prune { template: "{account_id}-{role}", prefix: "" };
        assert!(by_id.would_name("111111111111-Admin", "111111111111", "Admin"));
        assert!(by_id.would_name("111111111111-Admin-2", "111111111111", "Admin"));
        assert!(!by_id.would_name("x-111111111111-Admin", "111111111111", "Admin"));
    }
}
