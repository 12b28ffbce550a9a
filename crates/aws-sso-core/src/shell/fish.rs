//! fish: `set -gx`, `set -e -g`, its own single quotes, and the init script
//! `shell/aws-sso.fish`, installed with `aws-sso-env init fish | source` in
//! `~/.config/fish/config.fish`.

use super::{HookShell, Syntax, Unwritable, no_nul};

pub struct Fish;

impl Syntax for Fish {
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        no_nul(value).map(|()| quote_fish(value))
    }

    /// `set -gx NAME 'value'`: global, the scope [`HookShell::unset_env`] removes.
    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Ok(format!("set -gx {name} {}\n", self.quote(value)?))
    }
}

impl HookShell for Fish {
    /// `set -g NAME 'value'`: global, not exported.
    fn set_local(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Ok(format!("set -g {name} {}\n", self.quote(value)?))
    }

    /// `set -e -g NAME`: only the global variable goes, a universal one the user set stays.
    fn unset_env(&self, name: &str) -> String {
        format!("set -e -g {name}\n")
    }

    fn init_template(&self) -> &'static str {
        include_str!("../../../../shell/aws-sso.fish")
    }
}

/// Fish single quotes: only `\\` and `\'` are escapes inside them, so both are escaped.
pub fn quote_fish(value: &str) -> String {
    super::single_quoted(value, |out, c| {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Shell;
    use crate::shell::testing::{ATTACK, EXE, shown};

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("set_env", shown(Fish.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK)));
        insta::assert_snapshot!("set_local", shown(Fish.set_local("_AWS_SSO_FILE", ATTACK)));
        insta::assert_snapshot!("unset_env", Fish.unset_env("AWS_SSO_ACCOUNT_NAME"));
        insta::assert_snapshot!("quote", shown(Fish.quote(ATTACK)));
        insta::assert_snapshot!("init", Shell::Fish.init_script(EXE).expect("no NUL"));
    }
}
