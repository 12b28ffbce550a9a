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
