//! bash: POSIX lines (`export`, `unset -v`, single quotes), and the init script
//! `shell/aws-sso.bash`, installed with `eval "$(aws-sso-env init bash)"` in `~/.bashrc`.

use super::{HookShell, Posix, Syntax, Unwritable};

pub struct Bash;

impl Syntax for Bash {
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        Posix.quote(value)
    }

    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Posix.set_env(name, value)
    }
}

impl HookShell for Bash {
    fn set_local(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        Posix.set_local(name, value)
    }

    fn unset_env(&self, name: &str) -> String {
        Posix.unset_env(name)
    }

    fn init_template(&self) -> &'static str {
        include_str!("../../../../shell/aws-sso.bash")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Shell;
    use crate::shell::testing::{ATTACK, EXE, shown};

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("set_env", shown(Bash.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK)));
        insta::assert_snapshot!("set_local", shown(Bash.set_local("_AWS_SSO_FILE", ATTACK)));
        insta::assert_snapshot!("unset_env", Bash.unset_env("AWS_SSO_ACCOUNT_NAME"));
        insta::assert_snapshot!("quote", shown(Bash.quote(ATTACK)));
        insta::assert_snapshot!("init", Shell::Bash.init_script(EXE).expect("no NUL"));
    }
}
