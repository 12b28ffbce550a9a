//! The top-level command line of `aws-sso`: its own flags and the list of commands for `--help`.
//! A command's arguments are never parsed here; they go to the command untouched.

use std::ffi::OsString;
use std::path::Path;

use clap::{Arg, ArgAction, Command, value_parser};

/// The commands of the suite itself, each run as `aws-sso-NAME`, with the line `--help` shows.
pub const BUILTINS: &[(&str, &str)] = &[
    ("login", "Log in to IAM Identity Center, show the status, log out, configure sessions"),
    ("ls", "List the accounts and roles you can reach; write them as profiles"),
    ("env", "Credentials for a shell, a command or any SDK; the shell hook"),
];

/// The name in every message.
pub const NAME: &str = "aws-sso";

/// `aws-sso use`: run by the shell function of `aws-sso-env init`, since it changes the shell
/// itself; its words complete as `aws-sso-env use`'s.
pub const USE: &str = "use";
/// What `--help` says of it.
pub const USE_ABOUT: &str =
    "Use an account and role in this shell, kept fresh (needs aws-sso-env init)";

pub fn command() -> Command {
    let mut command = Command::new(NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .about("One front command for the aws-sso suite: `aws-sso COMMAND …` runs aws-sso-COMMAND")
        .long_about(
            "One front command for the aws-sso suite: `aws-sso COMMAND …` runs aws-sso-COMMAND \
             with the arguments that follow, untouched.\n\n\
             A command is looked up beside aws-sso first, so an installed suite wins over PATH, \
             then on PATH. Any program named aws-sso-NAME is a plugin: `aws-sso NAME …` runs it, \
             as cargo and kubectl do. The command's exit status is aws-sso's.",
        )
        .override_usage(
            "aws-sso <COMMAND> [ARGS]...\n       aws-sso help <COMMAND>\n       aws-sso --list",
        )
        .subcommand_value_name("COMMAND")
        .subcommand_help_heading("Commands")
        .disable_help_subcommand(true)
        .allow_external_subcommands(true)
        .external_subcommand_value_parser(value_parser!(OsString))
        .args_conflicts_with_subcommands(true)
        .after_help(
            "`aws-sso --list` shows every command found, plugins too; \
             `aws-sso help COMMAND` shows one command's options.",
        )
        .arg(
            Arg::new("list")
                .long("list")
                .action(ArgAction::SetTrue)
                .help("List every command, built-in or plugin, with the path where it was found"),
        );
    for (name, about) in BUILTINS {
        command = command.subcommand(passthrough(name).about(*about));
    }
    command = command.subcommand(passthrough(USE).about(USE_ABOUT));
    command.subcommand(
        Command::new("help")
            .about("Show a command's help (runs aws-sso-COMMAND --help)")
            .arg(Arg::new("command").value_name("COMMAND")),
    )
}

/// [`command`] with the plugins found (`aws-sso --list`'s, by name) as commands too, for tab
/// completion: `aws-sso <Tab>` offers every command that `aws-sso NAME` would run. Only names a
/// shell word can hold as they are become candidates.
pub fn with_plugins<'a>(
    mut command: Command,
    found: impl IntoIterator<Item = (&'a str, &'a Path)>,
) -> Command {
    for (name, path) in found {
        let usable = !name.starts_with('-')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        let taken =
            name == "help" || name == USE || BUILTINS.iter().any(|(builtin, _)| *builtin == name);
        if usable && !taken {
            command =
                command.subcommand(passthrough(name).about(format!("Plugin: {}", path.display())));
        }
    }
    command
}

/// A command whose arguments all go to the program that runs it, unparsed.
fn passthrough(name: &str) -> Command {
    Command::new(name.to_owned()).disable_help_flag(true).disable_version_flag(true).arg(
        Arg::new("args")
            .value_name("ARGS")
            .num_args(0..)
            .trailing_var_arg(true)
            .allow_hyphen_values(true)
            .value_parser(value_parser!(OsString)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_join_the_commands_unless_a_name_is_taken_or_unusable() {
        let path = Path::new("/opt/bin/aws-sso-x");
        let found =
            ["gimme", "ls", "help", "use", "-x", "has space", "v1.2_beta"].map(|n| (n, path));
        let command = with_plugins(command(), found);
        command.clone().debug_assert();
        let names: Vec<&str> = command.get_subcommands().map(Command::get_name).collect();
        assert_eq!(names, ["login", "ls", "env", "use", "help", "gimme", "v1.2_beta"]);
        let gimme = command.find_subcommand("gimme").expect("gimme");
        assert_eq!(
            gimme.get_about().map(ToString::to_string).as_deref(),
            Some("Plugin: /opt/bin/aws-sso-x")
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }
}
