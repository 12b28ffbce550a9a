//! `aws-sso-env`: role credentials for a shell, a command (`exec`) or an SDK
//! (`credential-process`), and the trust of project files (`allow`, `deny`, `status`).

use aws_sso_env::cli;
mod child;
mod console;
mod eks;
mod exec;
mod hook;
mod init;
mod pick;
mod picker;
mod project;
#[cfg(unix)]
mod server;
mod shell_use;
mod status;

use std::process::ExitCode;

use aws_sso_cli::login::Offer;
use aws_sso_cli::{Layout, Printer};
use aws_sso_core::cache::role_credentials::RoleCredentials;
use aws_sso_core::credentials::{CREDENTIAL_PROCESS_WINDOW, REUSE_WINDOW};
use aws_sso_core::env::Environment;
use aws_sso_core::resolve::{self, ResolvedRole, RoleChoice};
use aws_sso_core::session::{Context, SessionRequest};
use aws_sso_core::shell::{CredentialView, Format};
use jiff::SignedDuration;

use crate::cli::{Cli, Command, FormatArg, RoleArgs};

/// The name in every message.
pub const NAME: &str = "aws-sso-env";

fn main() -> ExitCode {
    // The prompt hook: decided before the whole command line is parsed, so an idle prompt costs
    // no clap parse.
    if let Some(code) = hook::fast_path(std::env::args_os()) {
        return code;
    }
    aws_sso_cli::complete::run_if_requested(aws_sso_env::command);
    // Its help goes to stderr: the `aws-sso` shell function evaluates its stdout.
    if std::env::args_os().nth(1).is_some_and(|command| command == "use") {
        return shell_use::main();
    }
    let cli = parse();
    let (env, printer) = cli.global.start(NAME);
    // Runs from every new shell's rc file: no config to read, nothing that can fail on it.
    if let Some(Command::Init(args)) = &cli.command {
        return aws_sso_cli::finish(NAME, init::run(args, printer));
    }
    if matches!(cli.command, Some(Command::CredentialProcess(_))) {
        return credential_process(cli, env, printer);
    }
    if matches!(cli.command, Some(Command::EksToken(_))) {
        return eks::run(&cli, env, printer);
    }
    let profile = cli.global.session.profile.as_deref();
    let offer = login_offer(&cli);
    let result = aws_sso_cli::login::login_when_needed(NAME, &env, profile, printer, offer, || {
        run(&cli, env.clone(), printer)
    });
    aws_sso_cli::finish(NAME, result)
}

/// Whether a command may offer a login it needs, at a terminal: never for what programs read
/// (`--format process|json`, `exec --server`) nor for the commands that only read files.
fn login_offer(cli: &Cli) -> Offer {
    match &cli.command {
        None if matches!(cli.format, FormatArg::Process | FormatArg::Json) => Offer::Never,
        None => Offer::AtTerminal,
        Some(Command::Exec(args)) if args.server => Offer::Never,
        Some(Command::Exec(_) | Command::Console(_)) => Offer::AtTerminal,
        Some(_) => Offer::Never,
    }
}

/// The command line, parsed; on a mistake, clap's message, except for a command after `exec`
/// without the `--` before it, which gets the line to type instead.
fn parse() -> Cli {
    use clap::Parser as _;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    Cli::try_parse_from(&args).unwrap_or_else(|error| {
        if let Some(message) = exec::forgotten_separator(&error, &args) {
            let text = aws_sso_core::shell::printable(&format!("{NAME}: error: {message}\n"));
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
            std::process::exit(error.exit_code());
        }
        aws_sso_cli::shown::exit_on_error(&error, aws_sso_env::command(), &args)
    })
}

fn run(cli: &Cli, env: Environment, printer: Printer) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(env, cli.global.session.profile.as_deref())?;
    let request = cli.global.session.request();
    match &cli.command {
        None => {
            let (resolved, creds) = credentials_for(&ctx, &request, &cli.role, REUSE_WINDOW)?;
            let view = view(&ctx, &resolved, &creds, cli.region.clone(), needs_names(cli.format));
            let text = aws_sso_core::shell::render(format(cli.format), &view)?;
            printer.data(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Exec(args)) => exec::run(&ctx, &request, args),
        Some(Command::Allow(args)) => project::allow(&ctx, args.path.as_deref(), printer),
        Some(Command::Deny(args)) => project::deny(&ctx, args.path.as_deref(), printer),
        Some(Command::Console(args)) => console::run(&ctx, &request, args, printer),
        Some(Command::Status(args)) => status::run(&ctx, &request, args, printer),
        Some(Command::Init(args)) => init::run(args, printer),
        Some(Command::Hook(args)) => Ok(hook::run(args.shell)),
        Some(Command::Use(args)) => shell_use::run(cli, args, ctx.env.clone()),
        Some(Command::CredentialProcess(_) | Command::EksToken(_)) => {
            unreachable_credential_process()
        }
    }
}

/// `credential-process` and `eks-token` are handled before `run`; this arm only keeps the match
/// exhaustive.
fn unreachable_credential_process() -> anyhow::Result<ExitCode> {
    anyhow::bail!("credential-process is dispatched before the other commands")
}

/// The credential_process contract: the Version 1 JSON on stdout, or one line on stderr and a
/// non-zero exit (SDKs show that line to their user).
fn credential_process(cli: Cli, env: Environment, printer: Printer) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let Some(Command::CredentialProcess(args)) = &cli.command else {
            anyhow::bail!("not a credential-process command");
        };
        // Lenient: a bad value in config.yaml must not break every SDK that asks for credentials.
        let ctx = Context::load_lenient(env, cli.global.session.profile.as_deref())?;
        let request = cli.global.session.request();
        // An SDK runs it: never a picker, whatever the terminal.
        let choice = RoleChoice {
            account: args.role.account.clone(),
            role: args.role.role.clone(),
            assume_role: args.role.assume_role.clone(),
        };
        let (resolved, creds) =
            resolve::role_credentials(&ctx, &request, &choice, CREDENTIAL_PROCESS_WINDOW)?;
        let view = view(&ctx, &resolved, &creds, None, false);
        printer.data(&aws_sso_core::shell::render(Format::Process, &view)?)?;
        Ok(())
    })();
    aws_sso_cli::finish_as(NAME, result.map(|()| ExitCode::SUCCESS), Layout::OneLine)
}

/// The account and role the user means, and credentials for it (the ladder of
/// [`resolve::role_credentials`]).
pub fn credentials_for(
    ctx: &Context,
    request: &SessionRequest,
    role: &RoleArgs,
    window: SignedDuration,
) -> anyhow::Result<(ResolvedRole, RoleCredentials)> {
    let choice = RoleChoice {
        account: role.account.clone(),
        role: role.role.clone(),
        assume_role: role.assume_role.clone(),
    };
    match resolve::role_credentials(ctx, request, &choice, window) {
        // Nothing named, or a name that matches several: at a terminal, the picker.
        Err(e) => match pick::offer(&e) {
            Some(query) => match pick::pick(ctx, request, &query)? {
                Some((request, picked)) => {
                    let choice = RoleChoice { assume_role: role.assume_role.clone(), ..picked };
                    Ok(resolve::role_credentials(ctx, &request, &choice, window)?)
                }
                None => Err(e.into()),
            },
            None => Err(e.into()),
        },
        Ok(found) => Ok(found),
    }
}

/// What the formats print. The account name costs a read of the account list, so it is looked
/// up only for the formats that show it.
pub fn view(
    ctx: &Context,
    resolved: &ResolvedRole,
    creds: &RoleCredentials,
    region: Option<String>,
    with_name: bool,
) -> CredentialView {
    let account_name = if with_name { resolve::account_name(ctx, resolved) } else { None };
    let view = resolved.credential_view(creds);
    CredentialView { region: region.or(view.region), account_name, ..view }
}

fn needs_names(format: FormatArg) -> bool {
    !matches!(format, FormatArg::Process)
}

fn format(arg: FormatArg) -> Format {
    match arg {
        FormatArg::Env => Format::Env,
        FormatArg::EnvNoExport => Format::EnvNoExport,
        FormatArg::Fish => Format::Fish,
        FormatArg::Powershell => Format::Powershell,
        FormatArg::WindowsCmd => Format::WindowsCmd,
        FormatArg::Process => Format::Process,
        FormatArg::Json => Format::Json,
        FormatArg::Dotenv => Format::Dotenv,
    }
}
