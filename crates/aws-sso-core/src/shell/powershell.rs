//! PowerShell: `$Env:NAME = 'value'`, for `--format powershell`.

use super::{Syntax, Unwritable, no_nul};

pub struct Powershell;

impl Syntax for Powershell {
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        no_nul(value).map(|()| quote_powershell(value))
    }

    /// `$Env:NAME = 'value'`: the process environment, which the programs it starts inherit.
    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Ok(format!("$Env:{name} = {}\n", self.quote(value)?))
    }
}

/// PowerShell single quotes: a quote is doubled. PowerShell also takes the typographic single
/// quotes (U+2018 to U+201B) as quotes, so those are doubled too.
pub fn quote_powershell(value: &str) -> String {
    super::single_quoted(value, |out, c| {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::testing::{ATTACK, shown};

    #[test]
    fn snapshots() {
        insta::assert_snapshot!(
            "set_env",
            shown(Powershell.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK))
        );
        insta::assert_snapshot!("quote", shown(Powershell.quote(ATTACK)));
    }
}
