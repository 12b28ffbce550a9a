//! `aws-sso-env init <shell>`: the shell integration of `shell/aws-sso.<shell>`, with the path of
//! this binary filled in, for `eval "$(aws-sso-env init bash)"` or `aws-sso-env init fish | source`.

use std::process::ExitCode;

use anyhow::Context as _;
use aws_sso_cli::Printer;
use aws_sso_core::shell::{Shell, quote_fish, quote_posix};

use crate::cli::InitArgs;

const BASH: &str = include_str!("../../../shell/aws-sso.bash");
const ZSH: &str = include_str!("../../../shell/aws-sso.zsh");
const FISH: &str = include_str!("../../../shell/aws-sso.fish");

/// Where the scripts name this binary; replaced by its absolute path, quoted for the shell.
const PLACEHOLDER: &str = "@AWS_SSO_ENV@";

pub fn run(args: &InitArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    // The absolute path keeps the hook working when PATH changes, and saves a PATH lookup per run.
    let exe = std::env::current_exe().context(
        "cannot find the path of the running aws-sso-env; run it by its full path: \
         eval \"$(/path/to/aws-sso-env init bash)\"",
    )?;
    let exe = exe.to_str().with_context(|| {
        format!(
            "the path of aws-sso-env is not UTF-8 ({}); install it under a UTF-8 path",
            exe.display()
        )
    })?;
    printer.data(&script(args.shell, exe))?;
    Ok(ExitCode::SUCCESS)
}

/// The script for `shell`, calling the binary at `exe`.
pub fn script(shell: Shell, exe: &str) -> String {
    let (template, quoted) = match shell {
        Shell::Bash => (BASH, quote_posix(exe)),
        Shell::Zsh => (ZSH, quote_posix(exe)),
        Shell::Fish => (FISH, quote_fish(exe)),
    };
    template.replace(PLACEHOLDER, &quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_calls_the_binary_by_its_quoted_path() {
        for shell in Shell::ALL {
            let text = script(shell, "/opt/it's here/aws-sso-env");
            assert!(!text.contains(PLACEHOLDER), "{shell}: placeholder left");
            let quoted = match shell {
                Shell::Fish => r"'/opt/it\'s here/aws-sso-env'",
                Shell::Bash | Shell::Zsh => r"'/opt/it'\''s here/aws-sso-env'",
            };
            assert!(
                text.contains(&format!("{quoted} hook {shell}")),
                "{shell}: the hook is not called as `{quoted} hook {shell}`:\n{text}"
            );
        }
    }
}
