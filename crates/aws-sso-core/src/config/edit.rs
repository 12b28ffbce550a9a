//! Changing `~/.aws/config` without disturbing it: every byte we do not mean to change (comments,
//! blank lines, order, spacing, CRLF endings, a missing final newline) stays as it was.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::ConfigError;
use super::ini::{self, Line, LineKind};
use super::profile::{FileKind, SectionId, SectionKind, identify, is_valid_name};
use crate::cache::locks::config_lock_path;
use crate::env::Environment;
use crate::fs::FileMode;
use crate::lock::FileLock;

/// An AWS config file as lines, ready to be edited and written back.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfigDocument {
    lines: Vec<Line>,
}

// Lines hold values, and a value may be a secret.
impl std::fmt::Debug for ConfigDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConfigDocument {{ {} lines }}", self.lines.len())
    }
}

impl ConfigDocument {
    /// Reads any text; a file the strict parser rejects can still be edited.
    pub fn parse(text: &str) -> Self {
        Self { lines: ini::lex(text) }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&line.text);
            out.push_str(line.ending);
        }
        out
    }

    /// Sets `key` in the section `kind`/`name`.
    ///
    /// An existing key is changed in place (its last occurrence, which is the one that counts);
    /// otherwise the key is added after the last property of the last such section; otherwise a
    /// new section is added at the end, after one blank line. A value with newlines is written
    /// as continuation lines, so `"\nendpoint_url = URL"` makes a sub-property block. `#` or `;`
    /// after a space would start a comment when read back: AWS files have no escaping.
    pub fn set(
        &mut self,
        kind: SectionKind,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ConfigError> {
        let (kind, name) = match (kind, name) {
            (SectionKind::Profile, "default") => (SectionKind::Default, "default"),
            (SectionKind::Default, _) => (SectionKind::Default, "default"),
            other => other,
        };
        if !is_valid_name(name) {
            return Err(ConfigError::InvalidName { what: "section", name: name.to_owned() });
        }
        if !is_valid_name(key) {
            return Err(ConfigError::InvalidName { what: "key", name: key.to_owned() });
        }
        let value = value.replace('\r', "");
        let mut value_lines = value.split('\n');
        let first = value_lines.next().unwrap_or_default().trim();
        let continuations: Vec<String> = value_lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("  {}", l.trim()))
            .collect();

        let sections = self.sections_of(kind, name);
        if let Some(index) = self.last_property(&sections, key) {
            self.replace_value(index, first, &continuations);
            return Ok(());
        }
        let mut new_lines = vec![property_line(key, first)];
        new_lines.extend(continuations);
        match sections.last() {
            Some(&(start, end)) => {
                let after = (start + 1..end)
                    .rev()
                    .find(|&i| {
                        matches!(
                            self.lines[i].kind,
                            LineKind::Property { .. }
                                | LineKind::Continuation { .. }
                                | LineKind::PropertyWithoutEquals
                        )
                    })
                    .unwrap_or(start);
                self.insert_after(after, new_lines);
            }
            None => self.append_section(kind, name, new_lines),
        }
        Ok(())
    }

    /// The line ending the file uses (that of its first line), `\n` for a new file.
    fn ending(&self) -> &'static str {
        self.lines.iter().map(|l| l.ending).find(|e| !e.is_empty()).unwrap_or("\n")
    }

    /// `(header index, end)` of each section that holds `kind`/`name`, in file order.
    fn sections_of(&self, kind: SectionKind, name: &str) -> Vec<(usize, usize)> {
        let mut all: Vec<(usize, usize, Option<SectionId>)> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let header = match &line.kind {
                LineKind::Section { name } => {
                    Some(identify(name, FileKind::Config).map(|(k, n)| (k, n.to_owned())))
                }
                LineKind::UnterminatedSection => Some(None),
                _ => None,
            };
            if let Some(identity) = header {
                if let Some(last) = all.last_mut() {
                    last.1 = i;
                }
                all.push((i, self.lines.len(), identity));
            }
        }
        let is = |k: SectionKind, n: &str, id: &Option<(SectionKind, String)>| matches!(id, Some((kind, name)) if *kind == k && name == n);
        let wanted = if kind == SectionKind::Default {
            // The parser ignores `[default]` when `[profile default]` exists: edit what it reads.
            if all.iter().any(|(_, _, id)| is(SectionKind::Profile, "default", id)) {
                (SectionKind::Profile, "default")
            } else {
                (SectionKind::Default, "default")
            }
        } else {
            (kind, name)
        };
        all.into_iter()
            .filter(|(_, _, id)| is(wanted.0, wanted.1, id))
            .map(|(start, end, _)| (start, end))
            .collect()
    }

    fn last_property(&self, sections: &[(usize, usize)], key: &str) -> Option<usize> {
        sections.iter().rev().find_map(|&(start, end)| {
            (start + 1..end).rev().find(|&i| {
                matches!(&self.lines[i].kind, LineKind::Property { key: k, .. } if k.eq_ignore_ascii_case(key))
            })
        })
    }

    fn replace_value(&mut self, index: usize, first: &str, continuations: &[String]) {
        let line = &self.lines[index];
        let LineKind::Property { value_span, .. } = &line.kind else { return };
        let before = &line.text[..value_span.start];
        let after = &line.text[value_span.end..];
        let gap = if !first.is_empty() && !before.ends_with([' ', '\t']) { " " } else { "" };
        let text = format!("{before}{gap}{first}{after}");
        let ending = line.ending;
        self.lines[index] = Line::new(text, ending);

        // The old value's continuation lines go; blank lines and comments among them stay.
        let mut i = index + 1;
        while i < self.lines.len() {
            match self.lines[i].kind {
                LineKind::Continuation { .. } => {
                    let removed = self.lines.remove(i);
                    if removed.ending.is_empty() {
                        self.lines[i - 1].ending = "";
                    }
                }
                LineKind::Blank | LineKind::Comment => i += 1,
                _ => break,
            }
        }
        self.insert_after(index, continuations.to_vec());
    }

    /// Inserts lines after `index`. A file without a final newline keeps lacking one.
    fn insert_after(&mut self, index: usize, texts: Vec<String>) {
        if texts.is_empty() {
            return;
        }
        let ending = self.ending();
        let last_ending = std::mem::replace(&mut self.lines[index].ending, ending);
        let count = texts.len();
        let new_lines = texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| Line::new(text, if i + 1 == count { last_ending } else { ending }));
        self.lines.splice(index + 1..index + 1, new_lines);
    }

    fn append_section(&mut self, kind: SectionKind, name: &str, properties: Vec<String>) {
        let ending = self.ending();
        if let Some(last) = self.lines.last_mut() {
            if last.ending.is_empty() {
                last.ending = ending;
            }
            if last.kind != LineKind::Blank {
                self.lines.push(Line::new(String::new(), ending));
            }
        }
        let header = match kind {
            SectionKind::Default => "[default]".to_owned(),
            SectionKind::Profile => format!("[profile {name}]"),
            SectionKind::SsoSession => format!("[sso-session {name}]"),
            SectionKind::Services => format!("[services {name}]"),
        };
        self.lines.push(Line::new(header, ending));
        self.lines.extend(properties.into_iter().map(|text| Line::new(text, ending)));
    }
}

fn property_line(key: &str, value: &str) -> String {
    if value.is_empty() { format!("{key} =") } else { format!("{key} = {value}") }
}

/// Sets `values` in one section of the config file at `path` and writes it back atomically.
///
/// A missing file counts as empty and is created 0600 (its directory 0700); an existing file
/// keeps its permissions, and a symlinked one (dotfile managers) is written through the link.
/// Nothing is written when nothing changes. The file is read and written under its lock
/// ([`lock_config_file`]), so parallel edits all land. A value with a line break or another
/// control character is refused: this writer writes one line per value.
pub fn update_config_file(
    env: &Environment,
    path: &Path,
    kind: SectionKind,
    name: &str,
    values: &[(&str, &str)],
) -> Result<(), ConfigError> {
    let target = resolve_symlink(path);
    // One value, one line: a line break would write a continuation line or a key of its own.
    if let Some((key, _)) = values.iter().find(|(_, v)| v.chars().any(char::is_control)) {
        return Err(ConfigError::InvalidValue {
            path: target,
            section: name.to_owned(),
            key: (*key).to_owned(),
        });
    }
    let _lock = lock_config_file(env, &target)?;
    let original = match fs::read_to_string(&target) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(source) => return Err(ConfigError::Read { path: target, source }),
    };
    let mut document = ConfigDocument::parse(original.as_deref().unwrap_or(""));
    for (key, value) in values {
        document.set(kind, name, key, value)?;
    }
    let rendered = document.render();
    if original.as_deref() == Some(rendered.as_str()) {
        return Ok(());
    }
    crate::fs::write_atomic(&target, rendered.as_bytes(), FileMode::KeepExisting)
        .map_err(|e| ConfigError::Write { path: target.clone(), source: e.source })
}

/// Takes the cross-process lock of the config file `target` (symlinks resolved): whoever edits
/// the file reads it, changes it and writes it while holding this, or a parallel edit is lost
/// (docs/ARCHITECTURE.md §4).
pub(crate) fn lock_config_file(env: &Environment, target: &Path) -> Result<FileLock, ConfigError> {
    FileLock::acquire(&config_lock_path(env, target))
        .map_err(|source| ConfigError::Lock { path: target.to_owned(), source })
}

pub(crate) fn resolve_symlink(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AwsConfig;

    /// Comments everywhere, inline comments, odd spacing, a sub-property block with a blank line
    /// in it, CRLF endings and no final newline.
    const BUSY_LF: &str = "# My AWS config
; managed by hand

[default]
region = us-east-1   # home region
output=json

[profile dev]   ; the dev account
sso_session = corp
s3 =
  addressing_style = path

  max_concurrent_requests = 20
region = eu-west-1 ; inline
# trailing comment of dev

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1";

    fn home_env(home: &Path) -> Environment {
        Environment::from_pairs([("HOME", home.to_string_lossy().into_owned())])
    }

    fn busy() -> String {
        BUSY_LF.replace('\n', "\r\n")
    }

    fn set(text: &str, kind: SectionKind, name: &str, key: &str, value: &str) -> String {
        let mut doc = ConfigDocument::parse(text);
        doc.set(kind, name, key, value).expect("valid names");
        doc.render()
    }

    fn parse(text: &str) -> AwsConfig {
        AwsConfig::parse(Some(text), None).expect("re-parses")
    }

    #[test]
    fn parse_and_render_is_byte_identical() {
        for text in [busy().as_str(), "", "\n", "x", "[a]\r\n\r\n", "\u{feff}[default]\nx=1"] {
            assert_eq!(ConfigDocument::parse(text).render(), text);
        }
    }

    #[test]
    fn changing_one_value_changes_only_that_value() {
        let out = set(&busy(), SectionKind::Profile, "dev", "region", "ap-south-1");
        let expected =
            busy().replace("region = eu-west-1 ; inline", "region = ap-south-1 ; inline");
        assert_eq!(out, expected);
        assert_eq!(parse(&out).profile("dev").and_then(|p| p.get("region")), Some("ap-south-1"));

        let out = set(&busy(), SectionKind::Default, "default", "region", "us-west-2");
        assert_eq!(out, busy().replace("region = us-east-1   #", "region = us-west-2   #"));
    }

    #[test]
    fn changing_the_last_line_keeps_the_missing_final_newline() {
        let out = set(&busy(), SectionKind::SsoSession, "corp", "sso_region", "us-east-2");
        assert_eq!(out, busy().replace("sso_region = eu-west-1", "sso_region = us-east-2"));
        assert!(!out.ends_with('\n'));
    }

    #[test]
    fn keys_match_case_insensitively() {
        let out = set("[profile a]\nREGION = x\n", SectionKind::Profile, "a", "region", "y");
        assert_eq!(out, "[profile a]\nREGION = y\n");
    }

    #[test]
    fn a_new_key_goes_after_the_last_property_of_its_section() {
        let out = set(&busy(), SectionKind::Profile, "dev", "sso_account_id", "123456789012");
        let expected = busy().replace(
            "region = eu-west-1 ; inline\r\n",
            "region = eu-west-1 ; inline\r\nsso_account_id = 123456789012\r\n",
        );
        assert_eq!(out, expected);
        let config = parse(&out);
        let dev = config.profile("dev").expect("dev");
        assert_eq!(dev.get("sso_account_id"), Some("123456789012"));
        assert_eq!(dev.get("s3"), Some("\naddressing_style = path\nmax_concurrent_requests = 20"));
    }

    #[test]
    fn a_new_key_in_the_last_section_without_final_newline() {
        let out = set(
            &busy(),
            SectionKind::SsoSession,
            "corp",
            "sso_registration_scopes",
            "sso:account:access",
        );
        assert_eq!(out, format!("{}\r\nsso_registration_scopes = sso:account:access", busy()));
        let session = parse(&out).sso_session("corp").expect("complete");
        assert_eq!(session.registration_scopes, Some(vec!["sso:account:access".to_owned()]));
    }

    #[test]
    fn a_new_section_is_appended_after_one_blank_line() {
        let out = set(&busy(), SectionKind::Profile, "prod", "region", "eu-central-1");
        assert_eq!(out, format!("{}\r\n\r\n[profile prod]\r\nregion = eu-central-1\r\n", busy()));

        let out = set("", SectionKind::SsoSession, "corp", "sso_region", "eu-west-1");
        assert_eq!(out, "[sso-session corp]\nsso_region = eu-west-1\n");

        let out = set("[default]\nx = 1\n\n", SectionKind::Default, "default", "y", "2");
        assert_eq!(out, "[default]\nx = 1\ny = 2\n\n");

        let out = set("[default]\nx = 1\n\n", SectionKind::Profile, "p", "y", "2");
        assert_eq!(out, "[default]\nx = 1\n\n[profile p]\ny = 2\n");

        let out = set("[profile a]\nx = 1", SectionKind::Default, "default", "y", "2");
        assert_eq!(out, "[profile a]\nx = 1\n\n[default]\ny = 2\n");
    }

    #[test]
    fn default_edits_go_to_profile_default_when_it_exists() {
        let text = "[default]\nregion = a\n[profile default]\nregion = b\n";
        let out = set(text, SectionKind::Default, "default", "region", "c");
        assert_eq!(out, "[default]\nregion = a\n[profile default]\nregion = c\n");
        assert_eq!(parse(&out).profile("default").and_then(|p| p.get("region")), Some("c"));
    }

    #[test]
    fn the_effective_occurrence_is_the_one_changed() {
        let text = "[profile a]\nx = 1\n[profile b]\n[profile a]\ny = 2\n";
        let out = set(text, SectionKind::Profile, "a", "x", "9");
        assert_eq!(out, "[profile a]\nx = 9\n[profile b]\n[profile a]\ny = 2\n");
        let out = set(text, SectionKind::Profile, "a", "z", "3");
        assert_eq!(out, "[profile a]\nx = 1\n[profile b]\n[profile a]\ny = 2\nz = 3\n");
    }

    #[test]
    fn an_empty_value_and_sub_property_blocks() {
        let out = set("[profile a]\nx =\n", SectionKind::Profile, "a", "x", "v");
        assert_eq!(out, "[profile a]\nx = v\n");

        let text = "[services local]\nsso =\n  endpoint_url = http://old\n\n# keep\n[profile z]\n";
        let out = set(text, SectionKind::Services, "local", "sso", "\nendpoint_url = http://new");
        assert_eq!(
            out,
            "[services local]\nsso =\n  endpoint_url = http://new\n\n# keep\n[profile z]\n"
        );
        let config = parse(&out);
        let services = config.services("local").expect("section");
        assert_eq!(services.sub_property("sso", "endpoint_url"), Some("http://new"));
    }

    #[test]
    fn invalid_names_are_refused() {
        let mut doc = ConfigDocument::parse("");
        assert!(doc.set(SectionKind::Profile, "in valid", "x", "1").is_err());
        assert!(doc.set(SectionKind::Profile, "ok", "bad key", "1").is_err());
        assert_eq!(doc.render(), "");
    }

    #[cfg(unix)]
    #[test]
    fn update_creates_a_private_file_and_keeps_an_existing_mode() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().expect("temp dir");
        let path = home.path().join(".aws").join("config");
        let env = home_env(home.path());
        update_config_file(
            &env,
            &path,
            SectionKind::SsoSession,
            "corp",
            &[("sso_start_url", "https://x.awsapps.com/start"), ("sso_region", "eu-west-1")],
        )
        .expect("written");
        let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n"
        );

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        update_config_file(
            &env,
            &path,
            SectionKind::SsoSession,
            "corp",
            &[("sso_region", "us-east-1")],
        )
        .expect("written");
        assert_eq!(mode(&path), 0o644);
        let config = AwsConfig::parse(Some(&fs::read_to_string(&path).expect("read")), None)
            .expect("parses");
        assert_eq!(config.sso_session("corp").expect("complete").region, "us-east-1");
        let leftovers: Vec<_> = fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "config")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn update_writes_through_a_symlink() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("dotfiles-config");
        fs::write(&real, "[default]\nregion = a\n").expect("write");
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let env = home_env(dir.path());
        update_config_file(&env, &link, SectionKind::Default, "default", &[("region", "b")])
            .expect("written");
        assert!(fs::symlink_metadata(&link).expect("link").file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).expect("read"), "[default]\nregion = b\n");
    }

    #[test]
    fn parallel_updates_all_land() {
        let home = tempfile::tempdir().expect("temp dir");
        let path = home.path().join(".aws").join("config");
        let env = home_env(home.path());
        std::thread::scope(|scope| {
            for i in 0..10 {
                let (env, path) = (&env, &path);
                scope.spawn(move || {
                    let name = format!("s{i}");
                    update_config_file(env, path, SectionKind::SsoSession, &name, &[("x", "1")])
                        .expect("written");
                });
            }
        });
        let config = AwsConfig::parse(Some(&fs::read_to_string(&path).expect("read")), None)
            .expect("parses");
        assert_eq!(config.sso_session_names().len(), 10);
    }

    #[test]
    fn a_value_with_a_line_break_is_refused_and_nothing_is_written() {
        let home = tempfile::tempdir().expect("temp dir");
        let path = home.path().join("config");
        fs::write(&path, "[default]\nregion = a\n").expect("write");
        let env = home_env(home.path());
        for value in ["x\nsso_region = evil", "x\r", "x\u{1b}"] {
            let err = update_config_file(&env, &path, SectionKind::Default, "d", &[("k", value)])
                .expect_err("refused");
            assert!(err.to_string().contains("line break"), "{err}");
        }
        assert_eq!(fs::read_to_string(&path).expect("read"), "[default]\nregion = a\n");
    }
}
