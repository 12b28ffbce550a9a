//! Property tests of every parser that reads what a user or another tool wrote, and of the
//! shell quoting: the AWS config reader and editor, `.aws-sso.yaml`, the SSO token cache, the
//! hook's `_AWS_SSO_STATE`, and `export`/`set -gx` lines read back by the real bash, zsh and fish.
//!
//! Why proptest and not `cargo fuzz`: libFuzzer targets need a nightly toolchain and a sanitizer
//! build, which `.ci/run` (stable, 2 cores, a bounded time) cannot give; proptest runs in the
//! ordinary `cargo test`, shrinks a failure to a small input, and every property here is bounded.
//! The number of cases is 256 per property (the shell batches: 8 of 200 values per shell);
//! `AWS_SSO_PROPTEST_CASES=N` raises it for a longer local run. Failures are not persisted to a
//! file: each one found becomes a named regression test at the end of this file.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use aws_sso_core::Secret;
use aws_sso_core::cache::CachedToken;
use aws_sso_core::config::project::parse_project_file;
use aws_sso_core::config::{AwsConfig, ConfigDocument, SectionKind};
use aws_sso_core::hook::{HookState, Used};
use aws_sso_core::shell::{Shell, quote_fish, quote_posix, set_var};
use jiff::Timestamp;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// Cases per property: 256, or `AWS_SSO_PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("AWS_SSO_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

fn config_with(cases: u32) -> Config {
    Config {
        cases,
        // Findings are kept as named tests below, not in a `proptest-regressions` file.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

fn config() -> Config {
    config_with(cases())
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Text made of the characters the AWS INI dialect cares about, any mix of them.
fn ini_soup() -> impl Strategy<Value = String> {
    "[\\[\\]=#; \t\r\n\u{feff}\u{a0}a-cA_.:-]{0,120}"
}

/// Section names: a small pool, so sections repeat and the edited one has neighbours.
fn section_name() -> impl Strategy<Value = String> {
    prop_oneof![Just("dev"), Just("prod"), Just("qa"), Just("ops"), Just("default"),]
        .prop_map(str::to_owned)
}

fn key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("region"),
        Just("Region"),
        Just("output"),
        Just("sso_session"),
        Just("s3"),
        Just("sso_start_url"),
    ]
    .prop_map(str::to_owned)
}

/// A value on one line, without `#`/`;` (tested separately) and without a newline.
fn line_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _./:=\t\u{e9}\u{4e2d}-]{0,20}"
}

/// One line of a plausible AWS config file, valid or not.
fn config_line() -> impl Strategy<Value = String> {
    prop_oneof![
        section_name().prop_map(|n| format!("[profile {n}]")),
        section_name().prop_map(|n| format!("[sso-session {n}]")),
        section_name().prop_map(|n| format!("[services {n}]")),
        section_name().prop_map(|n| format!("[{n}]")),
        section_name().prop_map(|n| format!("[ profile  {n} ] # note")),
        section_name().prop_map(|n| format!("[profile {n}")),
        section_name().prop_map(|n| format!("\u{feff}[profile\t{n}]")),
        Just("[default]".to_owned()),
        (key_name(), line_value()).prop_map(|(k, v)| format!("{k} = {v}")),
        (key_name(), line_value()).prop_map(|(k, v)| format!("{k}={v}")),
        (key_name(), line_value()).prop_map(|(k, v)| format!("{k} = {v} # comment")),
        (key_name(), line_value()).prop_map(|(k, v)| format!("{k} = {v};kept")),
        key_name().prop_map(|k| format!("{k} =")),
        (key_name(), line_value()).prop_map(|(k, v)| format!("  {k} = {v}")),
        line_value().prop_map(|v| format!("\t{v}")),
        Just("# a comment".to_owned()),
        Just("; a comment".to_owned()),
        Just(String::new()),
        Just("   ".to_owned()),
        "[^\n]{0,30}",
    ]
}

/// A plausible config file: lines joined by `\n` or `\r\n`, with or without a final newline.
fn config_text() -> impl Strategy<Value = String> {
    (vec((config_line(), prop_oneof![Just("\n"), Just("\r\n")]), 0..30), any::<bool>()).prop_map(
        |(lines, final_newline)| {
            let count = lines.len();
            let mut text = String::new();
            for (i, (line, ending)) in lines.into_iter().enumerate() {
                text.push_str(&line);
                if i + 1 < count || final_newline {
                    text.push_str(ending);
                }
            }
            text
        },
    )
}

/// A config file the reader accepts: sections of properties, value continuations,
/// sub-property blocks, comments and blank lines.
fn valid_config_text() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        section_name().prop_map(|n| format!("[profile {n}]")),
        section_name().prop_map(|n| format!("[sso-session {n}]")),
        section_name().prop_map(|n| format!("[services {n}]")),
        section_name().prop_map(|n| format!("[{n}]")),
        section_name().prop_map(|n| format!("[ profile  {n} ] # note")),
        Just("[default]".to_owned()),
    ];
    let value = "[a-zA-Z0-9_./:=-][a-zA-Z0-9 _./:=-]{0,15}";
    let entry = prop_oneof![
        (key_name(), value).prop_map(|(k, v)| vec![format!("{k} = {v}")]),
        (key_name(), value, vec(value, 1..3)).prop_map(|(k, v, more)| {
            let mut lines = vec![format!("{k}={v} ; comment")];
            lines.extend(more.into_iter().map(|m| format!("  {m}")));
            lines
        }),
        (key_name(), vec((key_name(), value), 0..3)).prop_map(|(k, subs)| {
            let mut lines = vec![format!("{k} =")];
            lines.extend(subs.into_iter().map(|(s, v)| format!("\t{s} = {v}")));
            lines
        }),
        Just(vec!["# comment".to_owned()]),
        Just(vec![String::new()]),
    ];
    (vec((header, vec(entry, 0..5)), 1..8), prop_oneof![Just("\n"), Just("\r\n")], any::<bool>())
        .prop_map(|(sections, ending, final_newline)| {
            let mut lines = Vec::new();
            for (header, entries) in sections {
                lines.push(header);
                lines.extend(entries.into_iter().flatten());
            }
            let mut text = lines.join(ending);
            if final_newline && !text.is_empty() {
                text.push_str(ending);
            }
            text
        })
}

fn section_kind() -> impl Strategy<Value = SectionKind> {
    prop_oneof![
        Just(SectionKind::Default),
        Just(SectionKind::Profile),
        Just(SectionKind::SsoSession),
        Just(SectionKind::Services),
    ]
}

/// A value `set` can write so that it reads back: the first line holds something, and no `#`
/// or `;` starts a comment (AWS files have no escaping; `set` documents this limit).
fn settable_value() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9_./:=\u{e9}-][a-zA-Z0-9 _./:=#;\t\r\u{e9}-]{0,20}",
        vec("[a-zA-Z0-9 _./:=\r-]{0,12}", 0..3),
    )
        .prop_map(|(first, more)| {
            let mut value = first;
            for line in more {
                value.push('\n');
                value.push_str(&line);
            }
            defuse_comments(&value)
        })
}

/// Replaces each `#`/`;` that would start a comment (after a space or tab) with `x`.
/// (A generator bug the properties found: `"é\t\r#"` is written as `é\t#`.)
fn defuse_comments(value: &str) -> String {
    let mut out = String::new();
    let mut previous_is_space = false;
    for c in value.chars() {
        out.push(if matches!(c, '#' | ';') && previous_is_space { 'x' } else { c });
        // `set` drops carriage returns, so one between a space and a `#` does not separate them.
        if c != '\r' {
            previous_is_space = c == ' ' || c == '\t';
        }
    }
    out
}

/// What a value written by `set` reads back as: the first line trimmed, then each non-blank
/// further line trimmed, joined by `\n`.
fn read_back_form(value: &str) -> String {
    let value = value.replace('\r', "");
    let mut lines = value.split('\n');
    let mut out = lines.next().unwrap_or_default().trim().to_owned();
    for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
        out.push('\n');
        out.push_str(line);
    }
    out
}

/// The text split before each line that starts a section (a line starting with `[`, after an
/// optional byte-order mark), each chunk with its line endings.
fn chunks(text: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.strip_prefix('\u{feff}').unwrap_or(line).starts_with('[') {
            out.push(String::new());
        }
        out.last_mut().expect("never empty").push_str(line);
    }
    out
}

fn section<'a>(
    config: &'a AwsConfig,
    kind: SectionKind,
    name: &str,
) -> Option<&'a aws_sso_core::config::Section> {
    match kind {
        SectionKind::Default => config.profile("default"),
        SectionKind::Profile => config.profile(name),
        SectionKind::SsoSession => config.sso_session_section(name),
        SectionKind::Services => config.services(name),
    }
}

// ---------------------------------------------------------------------------------------------
// AWS config reader and editor
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn config_reader_never_panics(text in prop_oneof![any::<String>(), ini_soup(), config_text()]) {
        let _ = AwsConfig::parse(Some(&text), None);
        let _ = AwsConfig::parse(None, Some(&text));
        let _ = AwsConfig::parse(Some(&text), Some(&text));
    }

    #[test]
    fn editor_renders_any_text_back_byte_for_byte(
        text in prop_oneof![any::<String>(), ini_soup(), config_text()],
    ) {
        prop_assert_eq!(ConfigDocument::parse(&text).render(), text);
    }

    #[test]
    fn set_changes_only_the_edited_section_and_reads_back(
        text in prop_oneof![1 => config_text(), 3 => valid_config_text()],
        kind in section_kind(),
        name in section_name(),
        key in key_name(),
        value in settable_value(),
    ) {
        let mut document = ConfigDocument::parse(&text);
        document.set(kind, &name, &key, &value).expect("valid names");
        let edited = document.render();

        // Every chunk whose header cannot name the edited section is unchanged. A new section
        // is appended as one more chunk; the chunk before it may gain a line ending and a
        // blank line.
        let target = if kind == SectionKind::Default || name == "default" { "default" } else { &name };
        let before = chunks(&text);
        let after = chunks(&edited);
        prop_assert!(
            after.len() == before.len() || after.len() == before.len() + 1,
            "{} chunks became {}", before.len(), after.len()
        );
        let appended = after.len() == before.len() + 1;
        for (i, (old, new)) in before.iter().zip(&after).enumerate() {
            let header = old.lines().next().unwrap_or_default();
            if i > 0 && header.contains(target) {
                continue;
            }
            if appended && i + 1 == before.len() {
                let rest = new.strip_prefix(old.as_str());
                prop_assert!(
                    rest.is_some_and(|r| r.chars().all(|c| c == '\r' || c == '\n')),
                    "chunk {i} changed: {old:?} -> {new:?}"
                );
            } else {
                prop_assert_eq!(old, new, "chunk {} changed", i);
            }
        }
        if appended {
            let header = after.last().and_then(|c| c.lines().next()).unwrap_or_default();
            prop_assert!(header.contains(target), "appended {header:?}");
        }

        // A file the reader accepted still reads, and the value is what was set.
        if AwsConfig::parse(Some(&text), None).is_ok() {
            let config = AwsConfig::parse(Some(&edited), None);
            prop_assert!(config.is_ok(), "edited file no longer reads: {:?}\n{edited}", config.err());
            let config = config.expect("checked");
            let got = section(&config, kind, &name).and_then(|s| s.get(&key));
            let want = read_back_form(&value);
            prop_assert_eq!(got, Some(want.as_str()), "in\n{}", edited);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `.aws-sso.yaml`
// ---------------------------------------------------------------------------------------------

/// A YAML double-quoted scalar: every character outside printable ASCII is escaped, so no
/// line-break folding (YAML also breaks lines at U+0085, U+2028 and U+2029) can change it.
fn yaml_double_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A YAML single-quoted scalar, for values on one line of printable characters.
fn yaml_single_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Account names and role names as people write them, and arbitrary text.
fn project_text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 _+=,.@'\"#:&*!|>%{}\\[\\]-]{1,24}",
        any::<String>(),
        "[0-9]{1,14}",
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
    ]
    .prop_filter("a value must hold something", |v| !v.trim().is_empty())
}

fn region() -> impl Strategy<Value = String> {
    "[a-z]{2}(-[a-z0-9]{1,9}){0,3}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn project_file_reader_never_panics(
        bytes in prop_oneof![
            vec(any::<u8>(), 0..200),
            "[a-z_:'\"\\-\\[\\]{}#&*!|>%@`, \t\r\n0-9]{0,120}".prop_map(String::into_bytes),
            (project_text_value(), project_text_value())
                .prop_map(|(a, r)| format!("account: {a}\nrole: {r}\n").into_bytes()),
        ],
    ) {
        let _ = parse_project_file(Path::new("/p/.aws-sso.yaml"), &bytes);
    }

    #[test]
    fn project_files_round_trip(
        account in project_text_value(),
        role in proptest::option::of(project_text_value()),
        sso_session in proptest::option::of(project_text_value()),
        region in proptest::option::of(region()),
        single in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let quote = |v: &str| {
            let printable = v.chars().all(|c| (' '..='~').contains(&c));
            if single && printable { yaml_single_quoted(v) } else { yaml_double_quoted(v) }
        };
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("# project{newline}account: {}{newline}", quote(&account));
        if let Some(role) = &role {
            text.push_str(&format!("role: {}{newline}", quote(role)));
        }
        if let Some(session) = &sso_session {
            text.push_str(&format!("sso_session: {}{newline}", quote(session)));
        }
        if let Some(region) = &region {
            text.push_str(&format!("region: {region}{newline}"));
        }
        let parsed = parse_project_file(Path::new("/p/.aws-sso.yaml"), text.as_bytes());
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.as_ref().err().map(ToString::to_string), text);
        let parsed = parsed.expect("checked");
        prop_assert_eq!(parsed.account, account);
        prop_assert_eq!(parsed.role, role);
        prop_assert_eq!(parsed.sso_session, sso_session);
        prop_assert_eq!(parsed.region, region);
    }

    #[test]
    fn bare_account_ids_keep_their_leading_zeros(id in "0{1,11}[0-9]{1,11}", quoted in any::<bool>()) {
        let id = format!("{id:0>12}");
        let id = &id[id.len() - 12..];
        let value = if quoted { format!("'{id}'") } else { id.to_owned() };
        let parsed = parse_project_file(Path::new("/p/.aws-sso.yaml"), format!("account: {value}\n").as_bytes());
        prop_assert_eq!(parsed.map(|p| p.account).map_err(|e| e.to_string()), Ok(id.to_owned()));
    }
}

// ---------------------------------------------------------------------------------------------
// SSO token cache
// ---------------------------------------------------------------------------------------------

/// Whole seconds from year 1 to 9999: the cache format has no fraction and a 4-digit year.
fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_135_596_800i64..253_402_300_800).prop_map(|s| Timestamp::from_second(s).expect("in range"))
}

/// A secret long and distinct enough that finding it in `Debug` output is never chance.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/=]{12,40}"
}

fn cached_token() -> impl Strategy<Value = CachedToken> {
    (
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        secret(),
        timestamp(),
        proptest::option::of(any::<String>()),
        proptest::option::of(secret()),
        proptest::option::of(timestamp()),
        proptest::option::of(secret()),
    )
        .prop_map(
            |(start_url, region, access, expires_at, client_id, client_secret, reg, refresh)| {
                CachedToken {
                    start_url,
                    region,
                    access_token: Secret::new(access),
                    expires_at,
                    client_id,
                    client_secret: client_secret.map(Secret::new),
                    registration_expires_at: reg,
                    refresh_token: refresh.map(Secret::new),
                }
            },
        )
}

/// JSON objects with the token's keys in any case and values of any JSON type.
fn token_like_json() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("accessToken"),
        Just("ACCESSTOKEN"),
        Just("expiresAt"),
        Just("expiresat"),
        Just("refreshToken"),
        Just("registrationExpiresAt"),
        Just("clientSecret"),
        Just("startUrl"),
        Just("other"),
    ];
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
        "[0-9T:.Z+-]{0,30}".prop_map(serde_json::Value::from),
        timestamp().prop_map(|t| serde_json::Value::from(t.to_string())),
        Just(serde_json::json!({"a": [1, {"b": null}]})),
    ];
    btree_map(key, value, 0..8).prop_map(|map| {
        let object: serde_json::Map<String, serde_json::Value> =
            map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        serde_json::to_vec(&object).expect("serializable")
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn token_reader_never_panics(
        bytes in prop_oneof![
            vec(any::<u8>(), 0..200),
            any::<String>().prop_map(String::into_bytes),
            token_like_json(),
        ],
    ) {
        // The error names what is wrong, never the content (which may hold a token).
        if let Err(reason) = CachedToken::from_json(&bytes) {
            prop_assert!(reason.len() < 80, "{reason}");
        }
    }

    #[test]
    fn token_files_round_trip_and_never_show_secrets(token in cached_token()) {
        let json = token.to_cli_json();
        prop_assert!(!json.contains('\n'), "one line: {json}");
        let read = CachedToken::from_json(json.as_bytes());
        prop_assert_eq!(read.as_ref(), Ok(&token), "{}", json);

        let debug = format!("{token:?}");
        for secret in [Some(&token.access_token), token.client_secret.as_ref(), token.refresh_token.as_ref()]
            .into_iter()
            .flatten()
        {
            prop_assert!(!debug.contains(secret.expose()), "{debug}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The hook's `_AWS_SSO_STATE`
// ---------------------------------------------------------------------------------------------

fn hook_state() -> impl Strategy<Value = HookState> {
    let text = || proptest::option::of(any::<String>());
    (
        (text(), text(), text(), text(), text(), text(), text()),
        vec("[A-Z_]{1,24}", 0..6),
        btree_map("[A-Z_]{1,24}", proptest::option::of(any::<String>()), 0..6),
        vec(any::<String>(), 0..3),
        proptest::option::of((any::<String>(), text(), any::<String>(), text(), text(), text())),
    )
        .prop_map(
            |(
                (file, account_id, account_name, role_name, region, access_key_id, expiration),
                set,
                saved,
                told,
                used,
            )| {
                HookState {
                    v: HookState::VERSION,
                    file,
                    account_id,
                    account_name,
                    role_name,
                    region,
                    access_key_id,
                    expiration,
                    set,
                    saved: saved.into_iter().collect::<BTreeMap<_, _>>(),
                    told,
                    used: used.map(
                        |(account_id, account_name, role_name, region, sso_session, profile)| {
                            Used {
                                account_id,
                                account_name,
                                role_name,
                                region,
                                sso_session,
                                profile,
                            }
                        },
                    ),
                }
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hook_state_decoder_never_panics(
        text in prop_oneof![
            any::<String>(),
            "[{}\\[\\]\":,0-9a-zA-Z \\\\]{0,80}",
            hook_state().prop_map(|s| s.encode()).prop_flat_map(|s| {
                let len = s.len();
                (Just(s), 0..=len).prop_map(|(s, cut)| s.get(..cut).unwrap_or(&s).to_owned())
            }),
        ],
    ) {
        let _ = HookState::decode(Some(&text));
    }

    #[test]
    fn hook_state_round_trips(state in hook_state()) {
        let encoded = state.encode();
        prop_assert!(!encoded.contains('\n'), "one line: {encoded}");
        let decoded = HookState::decode(Some(&encoded));
        if state.set.is_empty()
            && state.saved.is_empty()
            && state.told.is_empty()
            && state.used.is_none()
        {
            prop_assert_eq!(encoded, "");
            prop_assert_eq!(decoded, HookState::default());
        } else {
            prop_assert_eq!(decoded, state);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shell quoting, read back by the real shells
// ---------------------------------------------------------------------------------------------

/// Values in a batch: each shell runs once per batch.
const BATCH: usize = 200;

/// Strings without NUL (no environment variable can hold one), rich in what shells treat
/// specially.
fn shell_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\u{0}]{0,40}",
        "['\\\\\"$`!\n\r\t {}*?~#;&|<>()\\[\\]=%^a-]{0,24}",
        "[\u{1}-\u{1f}\u{7f}\u{80}-\u{ff}\u{2028}\u{feff}\u{f600}-\u{f6ff}\u{fdd0}\u{10ffff}a']{0,12}",
    ]
}

/// The command that runs a script file, or `None` when the shell is missing (with a notice,
/// once). Under `CI=true` a missing bash fails the test: CI installs it.
fn shell_command(shell: Shell) -> Option<Command> {
    static INSTALLED: [OnceLock<bool>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let program = shell.name();
    let installed = *INSTALLED[shell as usize].get_or_init(|| {
        let installed = Command::new(program)
            .arg("-c")
            .arg("exit 0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            // The skip must show in the test output: a silent pass would hide a shell never tried.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("notice: {program} is not installed; its quoting round trip is skipped");
            }
        }
        installed
    });
    if !installed {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!(ci && shell == Shell::Bash), "bash is not installed; CI must install it");
        return None;
    }
    let mut command = Command::new(program);
    match shell {
        Shell::Bash => command.args(["--noprofile", "--norc"]),
        Shell::Zsh => command.args(["-f"]),
        Shell::Fish => command.args(["--no-config"]),
    };
    command.env_remove("AWS_SSO_T").env("LC_ALL", "C.UTF-8");
    Some(command)
}

/// Sets and prints each value in `shell` with the line `set_var` writes, and returns what the
/// shell printed for each, or `None` when the shell is not installed.
fn read_back(shell: Shell, values: &[String]) -> Option<Vec<String>> {
    let mut command = shell_command(shell)?;
    let mut script = String::new();
    for value in values {
        script.push_str(&set_var(shell, "AWS_SSO_T", value).expect("no NUL"));
        // A builtin: one process per batch keeps the test fast.
        script.push_str("printf '%s\\0' \"$AWS_SSO_T\"\n");
    }
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(script.as_bytes()).expect("write script");
    let output = command.arg(file.path()).stderr(Stdio::inherit()).output().expect("run shell");
    assert!(output.status.success(), "{shell} failed: {:?}", output.status);
    let mut printed: Vec<String> = output
        .stdout
        .split(|&b| b == 0)
        .map(|v| String::from_utf8(v.to_vec()).expect("UTF-8 back"))
        .collect();
    assert_eq!(printed.pop().as_deref(), Some(""), "the output ends with a NUL");
    Some(printed)
}

fn shell_round_trip(shell: Shell, values: &[String]) -> Result<(), TestCaseError> {
    let Some(printed) = read_back(shell, values) else {
        return Ok(());
    };
    prop_assert_eq!(printed.len(), values.len(), "{} printed another number of values", shell);
    for (value, got) in values.iter().zip(&printed) {
        prop_assert_eq!(got, value, "{} read {:?} back as {:?}", shell, value, got);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config_with((cases() / 32).max(1)))]

    #[test]
    fn bash_reads_back_every_quoted_value(values in vec(shell_value(), BATCH)) {
        shell_round_trip(Shell::Bash, &values)?;
    }

    #[test]
    fn zsh_reads_back_every_quoted_value(values in vec(shell_value(), BATCH)) {
        shell_round_trip(Shell::Zsh, &values)?;
    }

    #[test]
    fn fish_reads_back_every_quoted_value(values in vec(shell_value(), BATCH)) {
        shell_round_trip(Shell::Fish, &values)?;
    }

    #[test]
    fn quoting_is_one_quoted_word(value in shell_value()) {
        let posix = quote_posix(&value);
        prop_assert!(posix.starts_with('\'') && posix.ends_with('\''), "{posix}");
        let fish = quote_fish(&value);
        prop_assert!(fish.starts_with('\'') && fish.ends_with('\''), "{fish}");
        let with_nul = format!("{value}\0");
        prop_assert!(set_var(Shell::Bash, "X", &with_nul).is_err(), "a NUL is refused");
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: inputs the properties above found, kept by name.
// ---------------------------------------------------------------------------------------------

/// Fish once used U+F600 to U+F6FF internally for bytes that are not UTF-8; values in that
/// range, and the two escapes of fish single quotes next to them, must come back unchanged.
#[test]
fn fish_keeps_private_use_characters_and_escapes() {
    let values: Vec<String> =
        ["\u{f600}", "\u{f6ff}\\", "\\'\u{f6fe}'", "a\\\\'b", "\\", "'", "\u{feff}x\n"]
            .map(str::to_owned)
            .into();
    shell_round_trip(Shell::Fish, &values).expect("fish reads each value back");
}

/// The generator had years from 1970 only; a year below 1000 must keep its four digits.
#[test]
fn token_expiry_before_year_1000_round_trips() {
    let token = CachedToken {
        start_url: None,
        region: None,
        access_token: Secret::new("token"),
        expires_at: "0999-12-31T23:59:59Z".parse().expect("timestamp"),
        client_id: None,
        client_secret: None,
        registration_expires_at: None,
        refresh_token: None,
    };
    let json = token.to_cli_json();
    assert!(json.contains("\"expiresAt\": \"0999-12-31T23:59:59Z\""), "{json}");
    assert_eq!(CachedToken::from_json(json.as_bytes()), Ok(token));
}

/// A byte-order mark and a trailing comment must not change a bare account id.
#[test]
fn bare_account_id_with_bom_and_comment_keeps_its_digits() {
    let parsed = parse_project_file(
        Path::new("/p/.aws-sso.yaml"),
        "\u{feff}account: 012345678901 # c\n".as_bytes(),
    )
    .expect("valid file");
    assert_eq!(parsed.account, "012345678901");
}
