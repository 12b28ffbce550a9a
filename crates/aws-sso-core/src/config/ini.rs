//! The AWS INI dialect as a list of lines that keeps every byte.
//!
//! Each line is classified on its own ([`LineKind`]) and never fails: the strict rules of the
//! cross-SDK suite (what is an error, what is ignored) live in `profile.rs`, and the
//! format-preserving editor in `edit.rs` works on the same lines, so both agree on what a section
//! header, a property or a continuation is.
//!
//! Hand-written: INI crates give back values, not lines (comments, spacing and CRLF are lost on
//! a write), and none knows the AWS dialect's indented sub-properties.

use std::ops::Range;

/// One physical line of the file.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The line without its ending.
    pub text: String,
    /// `"\n"`, `"\r\n"`, or `""` for a last line without a newline.
    pub ending: &'static str,
    pub kind: LineKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// Empty or only whitespace.
    Blank,
    /// A line whose first non-blank character is `#` or `;`.
    Comment,
    /// `[name]`, optionally followed by a comment; `name` is trimmed.
    Section { name: String },
    /// A line starting with `[` that does not end with `]` (before any comment).
    UnterminatedSection,
    /// `key = value`; `value` has its inline comment removed and is trimmed. `value_span` is
    /// where that value sits in the line (empty, after the `=`, when the value is empty).
    Property { key: String, value: String, value_span: Range<usize> },
    /// A line starting with a letter that has no `=`.
    PropertyWithoutEquals,
    /// A line starting with whitespace: the next line of a value, or a sub-property.
    Continuation { text: String },
}

/// Splits `text` into lines, keeping each line's ending.
pub(crate) fn lex(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (raw, ending, next) = match rest.find('\n') {
            Some(i) if rest[..i].ends_with('\r') => (&rest[..i - 1], "\r\n", &rest[i + 1..]),
            Some(i) => (&rest[..i], "\n", &rest[i + 1..]),
            None => (rest, "", ""),
        };
        lines.push(Line::new(raw.to_owned(), ending));
        rest = next;
    }
    lines
}

impl Line {
    pub(crate) fn new(text: String, ending: &'static str) -> Self {
        let kind = classify(&text);
        Self { text, ending, kind }
    }
}

// The text of a line holds config values, which may be secrets (the credentials file).
impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            LineKind::Blank => "blank",
            LineKind::Comment => "comment",
            LineKind::Section { .. } => "section",
            LineKind::UnterminatedSection => "unterminated section",
            LineKind::Property { .. } => "property",
            LineKind::PropertyWithoutEquals => "property without '='",
            LineKind::Continuation { .. } => "continuation",
        };
        f.write_str(kind)
    }
}

fn classify(text: &str) -> LineKind {
    // A byte-order mark some Windows editors write must not turn the first header into garbage.
    let line = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return LineKind::Blank;
    }
    if trimmed.starts_with(['#', ';']) {
        return LineKind::Comment;
    }
    if line.starts_with('[') {
        return classify_section(line);
    }
    if line.starts_with([' ', '\t']) {
        return LineKind::Continuation { text: trimmed.to_owned() };
    }
    let Some(eq) = line.find('=') else {
        return LineKind::PropertyWithoutEquals;
    };
    let key = line[..eq].trim().to_owned();
    let after = eq + 1;
    let raw_value = &line[after..];
    let without_comment = &raw_value[..inline_comment_start(raw_value)];
    let start = after + (without_comment.len() - without_comment.trim_start().len());
    let end = after + without_comment.trim_end().len();
    let (start, end) = if start > end { (end, end) } else { (start, end) };
    LineKind::Property { key, value: line[start..end].to_owned(), value_span: start..end }
}

/// In a header, a comment may follow the `]` directly: `[profile foo]; note`.
fn classify_section(line: &str) -> LineKind {
    let before_comment = match line.find(['#', ';']) {
        Some(i) => &line[..i],
        None => line,
    };
    let header = before_comment.trim_end();
    match header.strip_suffix(']') {
        Some(inner) if header.len() >= 2 => {
            LineKind::Section { name: inner[1..].trim().to_owned() }
        }
        _ => LineKind::UnterminatedSection,
    }
}

/// In a value, `#` and `;` start a comment only after whitespace: `value;x` keeps the `;`.
fn inline_comment_start(value: &str) -> usize {
    let mut previous_is_space = false;
    for (i, c) in value.char_indices() {
        if (c == '#' || c == ';') && previous_is_space {
            return i;
        }
        previous_is_space = c == ' ' || c == '\t';
    }
    value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> LineKind {
        classify(text)
    }

    #[test]
    fn lexing_keeps_every_byte_and_line_ending() {
        let text = "[profile a]\r\nx = 1\n\n# c\r\ny = 2";
        let lines = lex(text);
        let joined: String = lines.iter().map(|l| format!("{}{}", l.text, l.ending)).collect();
        assert_eq!(joined, text);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].ending, "\r\n");
        assert_eq!(lines[4].ending, "");
    }

    #[test]
    fn value_span_excludes_spaces_and_inline_comment() {
        let line = "region =  eu-west-1   # where we live";
        let LineKind::Property { key, value, value_span } = kind(line) else {
            panic!("not a property")
        };
        assert_eq!(key, "region");
        assert_eq!(value, "eu-west-1");
        assert_eq!(&line[value_span], "eu-west-1");
    }

    #[test]
    fn comment_characters_without_space_before_stay_in_the_value() {
        let LineKind::Property { value, .. } = kind("x = a;b#c") else { panic!("not a property") };
        assert_eq!(value, "a;b#c");
    }

    #[test]
    fn empty_value_has_an_empty_span_after_the_equals_sign() {
        let line = "s3 =";
        let LineKind::Property { value, value_span, .. } = kind(line) else {
            panic!("not a property")
        };
        assert_eq!(value, "");
        assert_eq!(value_span, 4..4);
        let LineKind::Property { value, value_span, .. } = kind("s3 = # only a comment") else {
            panic!("not a property")
        };
        assert_eq!(value, "");
        assert_eq!(value_span.start, value_span.end);
    }

    #[test]
    fn headers_accept_adjacent_comments_and_report_a_missing_bracket() {
        assert_eq!(kind("[profile foo]; c"), LineKind::Section { name: "profile foo".into() });
        assert_eq!(kind("[ default ]  # c"), LineKind::Section { name: "default".into() });
        assert_eq!(kind("[profile foo"), LineKind::UnterminatedSection);
        assert_eq!(kind("["), LineKind::UnterminatedSection);
    }

    #[test]
    fn indented_lines_are_continuations_and_indented_comments_are_comments() {
        assert_eq!(
            kind("  endpoint_url = x"),
            LineKind::Continuation { text: "endpoint_url = x".into() }
        );
        assert_eq!(kind("  # note"), LineKind::Comment);
        assert_eq!(kind(" \t "), LineKind::Blank);
        assert_eq!(kind("key : value"), LineKind::PropertyWithoutEquals);
    }

    #[test]
    fn debug_never_shows_the_text() {
        let line = Line::new("aws_secret_access_key = hunter2".into(), "\n");
        assert!(!format!("{line:?}").contains("hunter2"));
    }
}
