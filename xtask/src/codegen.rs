//! `cargo xtask codegen [--check]`: the files generated from the code and committed.
//!
//! Each generated file is a path (from the workspace root) and its text: the JSON Schemas of the
//! project file and of `config.yaml`, the shell completion scripts of every binary in `completions/`, and the man pages in
//! `man/man1/`. Without `--check` the files are rewritten when they differ; with it nothing is
//! written and the command fails when any file is stale, so CI catches a forgotten run.
//!
//! The completion scripts only register the binary with the shell: the candidates come from the
//! binary itself at each Tab (clap's dynamic completion, see `aws_sso_cli::complete` for why), so
//! they stay right as long as the script and the binary come from the same build.

use std::path::Path;

use anyhow::bail;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

/// Makes a binary's whole command line.
type CommandLine = fn() -> clap::Command;

/// The binaries with completion and man pages, and their command lines.
const COMMANDS: &[(&str, CommandLine)] = &[
    ("aws-sso", aws_sso::command),
    ("aws-sso-login", aws_sso_login::command),
    ("aws-sso-ls", aws_sso_ls::command),
    ("aws-sso-env", aws_sso_env::command),
];

/// What codegen produces: (path from the workspace root, text).
fn generated() -> anyhow::Result<Vec<(String, String)>> {
    let mut files = vec![
        ("schema/aws-sso.schema.json".to_owned(), aws_sso_core::config::project::json_schema()),
        (
            "schema/aws-sso-config.schema.json".to_owned(),
            aws_sso_core::config::settings::json_schema(),
        ),
    ];
    for (name, command) in COMMANDS {
        files.extend(completions(name)?);
        files.extend(man_pages(name, command())?);
    }
    Ok(files)
}

/// Each shell's registration script for `name`, where that shell's packagers put it.
fn completions(name: &str) -> anyhow::Result<Vec<(String, String)>> {
    let shells: [(&dyn EnvCompleter, String); 5] = [
        (&Bash, format!("completions/bash/{name}")),
        (&Zsh, format!("completions/zsh/_{name}")),
        (&Fish, format!("completions/fish/{name}.fish")),
        (&Powershell, format!("completions/powershell/{name}.ps1")),
        (&Elvish, format!("completions/elvish/{name}.elv")),
    ];
    let mut files = Vec::new();
    for (shell, path) in shells {
        let mut text = Vec::new();
        // The binary is found on PATH at each Tab, as the shell found it to run it.
        shell.write_registration("COMPLETE", name, name, name, &mut text)?;
        files.push((path, String::from_utf8(text)?));
    }
    Ok(files)
}

/// `name.1`, and `name-SUBCOMMAND.1` for each visible subcommand of the binaries that parse
/// their subcommands (the `aws-sso` dispatcher hands its to the other binaries, whose pages
/// those are).
fn man_pages(name: &str, mut command: clap::Command) -> anyhow::Result<Vec<(String, String)>> {
    command.build();
    let mut pages = vec![(format!("man/man1/{name}.1"), man_page(command.clone())?)];
    if name == "aws-sso" {
        return Ok(pages);
    }
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        let page = format!("{name}-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(page.clone())
            .bin_name(format!("{name} {}", sub.get_name()))
            // Every crate of the workspace shares one version.
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("man/man1/{page}.1"), man_page(sub)?));
    }
    Ok(pages)
}

fn man_page(command: clap::Command) -> anyhow::Result<String> {
    let mut text = Vec::new();
    clap_mangen::Man::new(command).render(&mut text)?;
    Ok(String::from_utf8(text)?)
}

/// Writes the generated files, or with `check` only says which are stale (an error).
pub fn run(check: bool) -> anyhow::Result<()> {
    let root = super::workspace_root();
    let mut stale = Vec::new();
    for (path, text) in generated()? {
        let file = root.join(&path);
        let current = match std::fs::read(&file) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => bail!("cannot read {}: {e}", file.display()),
        };
        if current.as_deref() == Some(text.as_bytes()) {
            super::step(&format!("{path}: up to date"));
            continue;
        }
        if check {
            stale.push(path);
            continue;
        }
        write(&file, &text)?;
        super::step(&format!("{path}: written"));
    }
    if !stale.is_empty() {
        bail!(
            "out of date: {}. Run `cargo xtask codegen` and commit the result.",
            stale.join(", ")
        );
    }
    Ok(())
}

fn write(file: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(file, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same check as `cargo xtask codegen --check`, so `cargo test` catches stale files too.
    #[test]
    fn the_committed_files_are_up_to_date() {
        let root = super::super::workspace_root();
        for (path, text) in generated().expect("generate") {
            let current = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            assert!(current == text, "{path} is stale: run `cargo xtask codegen`");
        }
    }
}
