//! zsh: POSIX lines (`export`, `unset -v`, single quotes), and the init script
//! `shell/aws-sso.zsh`, installed with `eval "$(aws-sso-env init zsh)"` in `~/.zshrc`.

use super::{HookShell, Posix, Syntax, Unwritable};

pub struct Zsh;

impl Syntax for Zsh {
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        Posix.quote(value)
    }

    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Posix.set_env(name, value)
    }
}

impl HookShell for Zsh {
    fn set_local(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Posix.set_local(name, value)
    }

    fn unset_env(&self, name: &str) -> String {
        Posix.unset_env(name)
    }

    fn init_template(&self) -> &'static str {
        include_str!("../../../../shell/aws-sso.zsh")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Shell;
    use crate::shell::testing::{ATTACK, EXE, shown};

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("set_env", shown(Zsh.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK)));
        insta::assert_snapshot!("set_local", shown(Zsh.set_local("_AWS_SSO_FILE", ATTACK)));
        insta::assert_snapshot!("unset_env", Zsh.unset_env("AWS_SSO_ACCOUNT_NAME"));
        insta::assert_snapshot!("quote", shown(Zsh.quote(ATTACK)));
        insta::assert_snapshot!("init", Shell::Zsh.init_script(EXE).expect("no NUL"));
    }
}
