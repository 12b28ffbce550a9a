//! JSON written byte for byte as Python's `json.dumps` writes it, which is how the AWS CLI v2
//! writes its cache files and builds the strings it hashes into cache keys.
//!
//! serde_json cannot do this: Python puts a space after `,` and `:` by default and escapes every
//! non-ASCII character as `\uXXXX` (`ensure_ascii=True`).

/// A JSON value whose object keys keep the order they are given in.
pub(crate) enum PyValue<'a> {
    Null,
    Str(&'a str),
    /// An integer, as Python writes an `int`.
    Int(i64),
    List(Vec<PyValue<'a>>),
    Object(Vec<(&'a str, PyValue<'a>)>),
}

impl<'a> PyValue<'a> {
    pub(crate) fn opt_str(value: Option<&'a str>) -> Self {
        value.map_or(PyValue::Null, PyValue::Str)
    }

    pub(crate) fn str_list(items: &'a [String]) -> Self {
        PyValue::List(items.iter().map(|s| PyValue::Str(s)).collect())
    }
}

/// The separators of `json.dumps`.
#[derive(Clone, Copy)]
pub(crate) enum Separators {
    /// The default: `", "` and `": "`.
    Default,
    /// `separators=(',', ':')`.
    Compact,
}

impl Separators {
    fn item(self) -> &'static str {
        match self {
            Separators::Default => ", ",
            Separators::Compact => ",",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Separators::Default => ": ",
            Separators::Compact => ":",
        }
    }
}

/// `json.dumps(value, separators=…)` with `ensure_ascii=True`. Keys are written in the order the
/// object holds them: sort them first where Python passes `sort_keys=True`.
pub(crate) fn dumps(value: &PyValue<'_>, separators: Separators) -> String {
    let mut out = String::new();
    write_value(&mut out, value, separators);
    out
}

fn write_value(out: &mut String, value: &PyValue<'_>, seps: Separators) {
    match value {
        PyValue::Null => out.push_str("null"),
        PyValue::Str(s) => write_str(out, s),
        PyValue::Int(n) => out.push_str(&n.to_string()),
        PyValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(seps.item());
                }
                write_value(out, item, seps);
            }
            out.push(']');
        }
        PyValue::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(seps.item());
                }
                write_str(out, key);
                out.push_str(seps.key());
                write_value(out, item, seps);
            }
            out.push('}');
        }
    }
}

/// Python's `py_encode_basestring_ascii`: everything outside printable ASCII (space to `~`) is
/// escaped, with lowercase hex and UTF-16 surrogate pairs above U+FFFF.
pub(crate) fn write_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> String {
        dumps(&PyValue::Str(s), Separators::Default)
    }

    // Expected values are what CPython 3 prints for json.dumps of the same string.
    #[test]
    fn escapes_strings_like_python() {
        assert_eq!(string("https://example.com/start"), r#""https://example.com/start""#);
        assert_eq!(string("a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(string("\n\r\t\u{08}\u{0c}"), r#""\n\r\t\b\f""#);
        assert_eq!(string("\u{01}\u{1f}\u{7f}"), r#""\u0001\u001f\u007f""#);
        assert_eq!(string("café"), r#""caf\u00e9""#);
        assert_eq!(string("日本"), r#""\u65e5\u672c""#);
        assert_eq!(string("🔑"), r#""\ud83d\udd11""#);
    }

    #[test]
    fn default_and_compact_separators() {
        let scopes = vec!["a".to_owned(), "b".to_owned()];
        let value = PyValue::Object(vec![
            ("k", PyValue::Null),
            ("list", PyValue::str_list(&scopes)),
            ("empty", PyValue::List(vec![])),
        ]);
        assert_eq!(
            dumps(&value, Separators::Default),
            r#"{"k": null, "list": ["a", "b"], "empty": []}"#
        );
        assert_eq!(dumps(&value, Separators::Compact), r#"{"k":null,"list":["a","b"],"empty":[]}"#);
    }
}
