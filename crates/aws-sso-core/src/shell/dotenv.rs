//! Dotenv files: `NAME="value"`, for `--format dotenv`. Not a shell: its readers (dotenvy,
//! python-dotenv, Node's dotenv) set variables, and none of them unsets one.

use super::{NUL, Syntax, Unwritable};

pub struct Dotenv;

impl Syntax for Dotenv {
    /// Double quotes with the escapes dotenvy (Rust) reads: `\\`, `\"`, `\n`, and `\$` so
    /// that no reader expands a variable. python-dotenv reads the first three alike but keeps
    /// the backslash of `\$`; readers that only know `\n` (Node's dotenv) misread a `\` or a
    /// `"`. Other line breaks and control characters have no escape these readers share, so
    /// they are refused; a tab is written as it is.
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('"');
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '$' => out.push_str("\\$"),
                '\n' => out.push_str("\\n"),
                '\0' => return Err(NUL),
                '\r' => return Err("a carriage return"),
                c if c.is_control() && c != '\t' => return Err("a control character"),
                c => out.push(c),
            }
        }
        out.push('"');
        Ok(out)
    }

    /// `NAME="value"`.
    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Ok(format!("{name}={}\n", self.quote(value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::testing::{ATTACK, shown};

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("set_env", shown(Dotenv.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK)));
        insta::assert_snapshot!("quote", shown(Dotenv.quote(ATTACK)));
    }
}
