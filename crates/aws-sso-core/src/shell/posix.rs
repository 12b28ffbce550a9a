//! POSIX sh, which bash, zsh, dash, ksh and busybox all read alike: `--format env` and
//! `env-no-export`, and the lines bash and zsh share.

use super::{Syntax, Unwritable, no_nul};

/// Every POSIX shell. It has no init script of its own: bash and zsh each have one.
pub struct Posix;

impl Syntax for Posix {
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        no_nul(value).map(|()| quote_posix(value))
    }

    /// `export NAME='value'`.
    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Ok(format!("export {name}={}\n", self.quote(value)?))
    }
}

impl Posix {
    /// `NAME='value'`: a shell variable, not exported.
    pub fn set_local(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Ok(format!("{name}={}\n", self.quote(value)?))
    }

    /// `unset -v NAME`: `-v`, so that a function of that name is never removed instead.
    pub fn unset_env(&self, name: &str) -> String {
        format!("unset -v {name}\n")
    }
}

/// POSIX single quotes: nothing is special inside them, and a `'` is written as `'\''` (close,
/// an escaped quote, reopen). Bash, zsh, dash, ksh and busybox read it the same way.
pub fn quote_posix(value: &str) -> String {
    super::single_quoted(value, |out, c| {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::testing::{ATTACK, shown};

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("set_env", shown(Posix.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK)));
        insta::assert_snapshot!(
            "set_local",
            shown(Posix.set_local("AWS_SSO_ACCOUNT_NAME", ATTACK))
        );
        insta::assert_snapshot!("unset_env", Posix.unset_env("AWS_SSO_ACCOUNT_NAME"));
        insta::assert_snapshot!("quote", shown(Posix.quote(ATTACK)));
    }
}
