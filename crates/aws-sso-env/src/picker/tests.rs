use super::history::{Entry, record};
use super::term::decode;
use super::*;

fn row(id: &str, name: &str, role: Option<&str>) -> Row {
    Row {
        session: None,
        account_id: id.to_owned(),
        account_name: name.to_owned(),
        role: role.map(str::to_owned),
    }
}

fn org() -> Vec<Row> {
    vec![
        row("100000000001", "acme-billing", Some("Billing")),
        row("100000000002", "acme-prod", Some("AdministratorAccess")),
        row("100000000002", "acme-prod", Some("ReadOnlyAccess")),
        row("100000000003", "acme-staging", Some("ReadOnlyAccess")),
        row("100000000004", "data-lake", None),
    ]
}

fn typed(picker: &mut Picker, text: &str) {
    for c in text.chars() {
        assert_eq!(picker.key(Key::Char(c), 10), Step::Continue);
    }
}

/// A frame as text; the query line ends in a space for the cursor, left out here.
fn frame_text(picker: &mut Picker, width: usize, height: usize) -> String {
    let lines = picker.frame(width, height).lines;
    lines.iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_row_shows_until_something_is_typed() {
    let mut picker = Picker::new("corp", org(), &[], "");
    insta::assert_snapshot!(frame_text(&mut picker, 80, 10), @r"
    corp >
    > acme-billing  100000000001  Billing
      acme-prod     100000000002  AdministratorAccess
      acme-prod     100000000002  ReadOnlyAccess
      acme-staging  100000000003  ReadOnlyAccess
      data-lake     100000000004  (roles fetched when chosen)
      5/5  ↑↓ move · Enter choose · Esc cancel
    ");
}

#[test]
fn typing_a_part_of_a_name_or_role_filters_and_enter_chooses() {
    let mut picker = Picker::new("corp", org(), &[], "");
    typed(&mut picker, "prod read");
    insta::assert_snapshot!(frame_text(&mut picker, 80, 10), @r"
    corp > prod read
    > acme-prod  100000000002  ReadOnlyAccess
      1/5  ↑↓ move · Enter choose · Esc cancel
    ");
    assert_eq!(picker.key(Key::Enter, 10), Step::Chosen(org()[2].clone()));
    // Case and gaps do not matter; an id matches by any part too.
    let mut picker = Picker::new("corp", org(), &[], "");
    typed(&mut picker, "STG");
    assert_eq!(picker.selected().map(|r| r.account_name.as_str()), Some("acme-staging"));
    let mut picker = Picker::new("corp", org(), &[], "");
    typed(&mut picker, "0004");
    assert_eq!(picker.counts(), (1, 5));
    assert_eq!(picker.key(Key::Enter, 10), Step::Chosen(org()[4].clone()));
}

#[test]
fn arrows_move_and_the_frame_scrolls_with_the_highlight() {
    let mut picker = Picker::new("corp", org(), &[], "");
    for _ in 0..4 {
        picker.key(Key::Down, 3);
    }
    // Past the last row, Down stays on it.
    picker.key(Key::Down, 3);
    let text = frame_text(&mut picker, 80, 5);
    insta::assert_snapshot!(text, @r"
    corp >
      acme-prod     100000000002  ReadOnlyAccess
      acme-staging  100000000003  ReadOnlyAccess
    > data-lake     100000000004  (roles fetched when chosen)
      5/5  ↑↓ move · Enter choose · Esc cancel
    ");
    picker.key(Key::PageUp, 3);
    assert_eq!(picker.selected(), Some(&org()[1]));
    picker.key(Key::Up, 3);
    picker.key(Key::Up, 3);
    assert_eq!(picker.selected(), Some(&org()[0]));
}

#[test]
fn nothing_matching_chooses_nothing_and_esc_cancels() {
    let mut picker = Picker::new("corp", org(), &[], "zzzz");
    assert_eq!(picker.counts(), (0, 5));
    assert_eq!(picker.key(Key::Enter, 10), Step::Continue);
    picker.key(Key::ClearQuery, 10);
    assert_eq!(picker.counts(), (5, 5));
    assert_eq!(picker.key(Key::Cancel, 10), Step::Cancelled);
}

#[test]
fn recent_choices_come_first() {
    let recent = [
        Entry { session: None, account_id: "100000000003".into(), role: "ReadOnlyAccess".into() },
        Entry { session: None, account_id: "100000000002".into(), role: "ReadOnlyAccess".into() },
    ];
    let mut picker = Picker::new("corp", org(), &recent, "");
    let lines = picker.frame(80, 10).lines;
    let order: Vec<(&str, Option<&str>)> = lines
        .iter()
        .skip(1)
        .take(2)
        .map(|l| (l[2..].split_whitespace().next().unwrap_or(""), l.split_whitespace().last()))
        .collect();
    assert_eq!(
        order,
        [("acme-staging", Some("ReadOnlyAccess")), ("acme-prod", Some("ReadOnlyAccess"))]
    );
    // A typed query ranks by the match first, then by recency among equals.
    typed(&mut picker, "acme");
    assert_eq!(picker.selected(), Some(&org()[3]));
}

#[test]
fn the_history_keeps_each_choice_once_most_recent_first_and_bounded() {
    let entry =
        |n: usize| Entry { session: None, account_id: format!("{n:012}"), role: "R".into() };
    let mut entries = Vec::new();
    for n in 0..60 {
        entries = record(entries, entry(n));
    }
    assert_eq!(entries.len(), history::MAX_ENTRIES);
    assert_eq!(entries[0], entry(59));
    let entries = record(entries, entry(40));
    assert_eq!(entries[0], entry(40));
    assert_eq!(entries.iter().filter(|e| **e == entry(40)).count(), 1);
}

#[test]
fn hostile_names_are_shown_escaped_and_long_lines_cut() {
    let rows = vec![row("100000000001", "evil\u{1b}]0;pwned\u{7}-name", Some("Admin"))];
    let mut picker = Picker::new("corp", rows, &[], "");
    let text = frame_text(&mut picker, 80, 5);
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    assert!(text.contains("evil\\u{1b}]0;pwned\\u{7}-name"), "{text}");
    let long = vec![row("100000000001", &"x".repeat(200), Some("Admin"))];
    let mut picker = Picker::new("corp", long, &[], "");
    for line in picker.frame(40, 5).lines {
        assert!(aws_sso_cli::table::width(&line) <= 40, "{line}");
    }
}

#[test]
fn rows_of_several_sessions_say_which() {
    let rows = vec![
        Row { session: Some("corp".into()), ..row("100000000001", "prod", Some("Admin")) },
        Row { session: Some("lab".into()), ..row("200000000001", "prod", Some("Admin")) },
    ];
    let mut picker = Picker::new("2 sessions", rows, &[], "lab");
    insta::assert_snapshot!(frame_text(&mut picker, 80, 5), @r"
    2 sessions > lab
    > prod  200000000001  Admin  [lab]
      1/2  ↑↓ move · Enter choose · Esc cancel
    ");
}

#[test]
fn keys_are_decoded_from_what_terminals_send() {
    let (keys, used) = decode(b"ab\x7f\r", false);
    assert_eq!(keys, [Key::Char('a'), Key::Char('b'), Key::Backspace, Key::Enter]);
    assert_eq!(used, 4);
    assert_eq!(
        decode(b"\x1b[A\x1b[B\x1bOA\x1b[5~\x1b[6~", false).0,
        [Key::Up, Key::Down, Key::Up, Key::PageUp, Key::PageDown]
    );
    // A lone Esc waits for more, and is Esc once nothing follows.
    assert_eq!(decode(b"\x1b", false), (vec![], 0));
    assert_eq!(decode(b"\x1b", true), (vec![Key::Cancel], 1));
    assert_eq!(decode(b"\x03", false).0, [Key::Cancel]);
    assert_eq!(decode(b"\x15", false).0, [Key::ClearQuery]);
    // UTF-8 split across reads waits for its end.
    let e_acute = "é".as_bytes();
    assert_eq!(decode(&e_acute[..1], false), (vec![], 0));
    assert_eq!(decode(e_acute, false).0, [Key::Char('é')]);
    // Unknown sequences and control bytes are skipped, not typed.
    assert_eq!(decode(b"\x1b[1;5C\x01x", false).0, [Key::Char('x')]);
}

#[test]
fn roles_that_arrive_replace_the_waiting_row_and_the_highlight_stays() {
    let mut picker = Picker::new("corp", org(), &[], "");
    picker.key(Key::Down, 10);
    picker.key(Key::Down, 10);
    assert_eq!(picker.selected(), Some(&org()[2]));
    let roles = ["Analyst".to_owned(), "DataEngineer".to_owned()];
    picker.set_roles(None, "100000000004", &roles);
    assert_eq!(picker.counts(), (6, 6));
    assert_eq!(picker.selected(), Some(&org()[2]), "the highlight did not move");
    typed(&mut picker, "engineer");
    assert_eq!(picker.selected().and_then(|r| r.role.as_deref()), Some("DataEngineer"));
    // An account with no role to use leaves no row; news of an unknown account changes nothing.
    let mut picker = Picker::new("corp", org(), &[], "");
    picker.set_roles(None, "100000000004", &[]);
    picker.set_roles(None, "999999999999", &roles);
    assert_eq!(picker.counts(), (4, 4));
}
