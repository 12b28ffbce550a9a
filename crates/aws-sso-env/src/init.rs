//! `aws-sso-env init <shell>`: the shell integration of `shell/aws-sso.<shell>`, with the path of
//! this binary filled in ([`aws_sso_core::shell::Shell::init_script`]), for
//! `eval "$(aws-sso-env init bash)"` or `aws-sso-env init fish | source`.

use std::process::ExitCode;

use anyhow::Context as _;
use aws_sso_cli::Printer;

use crate::cli::InitArgs;

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
    printer.data(&args.shell.init_script(exe)?)?;
    Ok(ExitCode::SUCCESS)
}
