//! `cargo xtask demo`: the whole story on the emulator, in a throw-away HOME; `--shell` then
//! hands that HOME to the user in an interactive shell, and cleans up when they leave it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use aws_sso_tests::Sandbox;
use aws_sso_tests::shells::FISH_GENERATED_COMPLETIONS;

use crate::{build_binaries, step, target_dir};

const CONFIG: &str = "[sso-session demo]\nsso_start_url = https://d-0000000000.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";

/// The project directory of `--shell`, under the throw-away HOME, and what it asks for.
const PROJECT: &str = "project";
const PROJECT_FILE: &str = "account: account-002\nrole: ReadOnlyAccess\nregion: eu-west-1\n";

/// The binaries the shell's rc file loads completion for.
const COMPLETED: &[&str] = &["aws-sso", "aws-sso-login", "aws-sso-ls", "aws-sso-env"];

pub fn run(shell: bool) -> anyhow::Result<()> {
    step("Building the tools (cargo's progress below; a first build takes a few minutes)");
    build_binaries(&[])?;
    let bin = target_dir().join("debug");
    let sandbox =
        Sandbox::new_in(&bin, CONFIG, &["--accounts", "4", "--roles-per-account", "2", "--quiet"]);
    step(&format!(
        "The emulator (a local IAM Identity Center) listens on {}",
        sandbox.emulator.url
    ));
    step(&format!("A throw-away HOME: {}\n~/.aws/config:\n{CONFIG}", sandbox.path().display()));
    step("The browser is a stand-in that approves the login, as a person clicking \"Allow\" would");
    let run = |tool: &str, args: &[&str]| -> anyhow::Result<()> {
        step(&format!("{tool} {}", args.join(" ")));
        let status = sandbox.std_cmd(tool).args(args).env_remove("NO_COLOR").status()?;
        if !status.success() {
            bail!("{tool} {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    run("aws-sso-login", &[])?;
    run("aws-sso-login", &["status"])?;
    run("aws-sso-login", &["status", "--output", "json"])?;
    run("aws-sso-login", &[])?;
    run("aws-sso-ls", &[])?;
    run("aws-sso-ls", &["account-002"])?;
    run("aws-sso-ls", &["--accounts", "--wide"])?;
    // A command with role credentials in its environment; it prints who it is, not the secrets.
    run(
        "aws-sso-env",
        &[
            "exec",
            "account-002",
            "ReadOnlyAccess",
            "--",
            "sh",
            "-c",
            // Which credentials it got, never their values.
            "echo \"running as $AWS_SSO_PROFILE until $AWS_CREDENTIAL_EXPIRATION, with \
             ${AWS_ACCESS_KEY_ID:+a key id, }${AWS_SECRET_ACCESS_KEY:+a secret key, }\
             ${AWS_SESSION_TOKEN:+a session token}\"",
        ],
    )?;
    if shell {
        let project = sandbox.path().join(PROJECT);
        std::fs::create_dir_all(&project).context("cannot create the project directory")?;
        std::fs::write(project.join(".aws-sso.yaml"), PROJECT_FILE)
            .context("cannot write the project file")?;
        run("aws-sso-env", &["allow", &project.to_string_lossy()])?;
        let home = sandbox.path().to_path_buf();
        let outcome = interactive_shell(&sandbox, &bin);
        // Dropping the sandbox stops the emulator and removes the HOME, whatever the shell did.
        drop(sandbox);
        step(&format!("Stopped the emulator and removed {}", home.display()));
        return outcome;
    }
    step(
        "Done. `cargo xtask demo --shell` lets you try it by hand; against a real IAM Identity Center, see the Quick start in README.md.",
    );
    Ok(())
}

/// The shell to start: $SHELL, else bash.
fn user_shell() -> PathBuf {
    std::env::var_os("SHELL").filter(|s| !s.is_empty()).map_or_else(|| "bash".into(), PathBuf::from)
}

/// Runs the user's shell in the sandbox's HOME until they leave it.
fn interactive_shell(sandbox: &Sandbox, bin: &Path) -> anyhow::Result<()> {
    let shell = user_shell();
    let name = shell.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let home = sandbox.path();
    let mut cmd = Command::new(&shell);
    // The sandbox's environment only (HOME, the emulator as every endpoint, the stand-in
    // browser), so none of the user's own AWS settings or credentials leak in or out.
    let base = sandbox.std_cmd("aws-sso-env");
    cmd.env_clear();
    for (key, value) in base.get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    for keep in ["TERM", "LANG", "LC_ALL", "COLORTERM", "USER", "LOGNAME"] {
        if let Some(value) = std::env::var_os(keep) {
            cmd.env(keep, value);
        }
    }
    let outer = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&outer)),
    )
    .context("cannot put the tools on PATH")?;
    cmd.env("PATH", path).env("SHELL", &shell).env_remove("NO_COLOR").current_dir(home);
    let loaded = match name.as_str() {
        "bash" => {
            let rc = home.join(".bashrc");
            std::fs::write(&rc, rc_file("bash")).context("cannot write .bashrc")?;
            cmd.arg("--rcfile").arg(&rc).arg("-i");
            true
        }
        "zsh" => {
            std::fs::write(home.join(".zshrc"), rc_file("zsh")).context("cannot write .zshrc")?;
            cmd.env("ZDOTDIR", home).arg("-i");
            true
        }
        "fish" => {
            let dir = home.join(".config/fish");
            std::fs::create_dir_all(&dir).context("cannot create ~/.config/fish")?;
            // Else fish's first start in this HOME scans every man page in the background, for
            // minutes after the demo is gone.
            std::fs::create_dir_all(home.join(FISH_GENERATED_COMPLETIONS))
                .context("cannot create fish's completions directory")?;
            std::fs::write(dir.join("config.fish"), rc_file("fish"))
                .context("cannot write config.fish")?;
            cmd.arg("-i");
            true
        }
        _ => false,
    };
    let hook_line = if loaded {
        format!("The hook and tab completion are loaded ({name}).")
    } else {
        format!("{name} has no hook: bash, zsh and fish do (SHELL=bash cargo xtask demo --shell).")
    };
    let tries = [
        ("aws-sso-login status", "logged in to the session `demo`"),
        ("aws-sso-ls", "the emulator's 4 accounts and their roles"),
        ("cd ~/project", "its .aws-sso.yaml: account-002, ReadOnlyAccess"),
        ("echo $AWS_SSO_PROFILE", "the hook exported that role's credentials"),
        ("cd ~; echo $AWS_SSO_PROFILE", "and took them back"),
        ("aws-sso-env exec account-0<TAB>", "completion, from the account cache"),
        ("aws-sso-login logout", "then cd ~/project: the hook says to log in"),
        ("exit", "stops the emulator and removes this HOME"),
    ];
    let mut text =
        format!("A shell wired to the emulator, in HOME {}. {hook_line} Try:", home.display());
    for (line, what) in tries {
        text.push_str(&format!("\n  {line:<33} # {what}"));
    }
    step(&text);
    let status = cmd.status().with_context(|| format!("cannot start {}", shell.display()))?;
    step(&format!("{} exited ({status})", shell.display()));
    Ok(())
}

/// The rc file of `shell`: the hook, completion of the tools, and a prompt naming the role.
fn rc_file(shell: &str) -> String {
    let tools = COMPLETED.join(" ");
    match shell {
        "bash" => format!(
            "eval \"$(aws-sso-env init bash)\"\n\
             for tool in {tools}; do source <(COMPLETE=bash \"$tool\"); done\n\
             PS1='(demo) ${{AWS_SSO_PROFILE:+[$AWS_SSO_PROFILE] }}\\w \\$ '\n"
        ),
        "zsh" => format!(
            "autoload -Uz compinit && compinit -u\n\
             eval \"$(aws-sso-env init zsh)\"\n\
             for tool in {tools}; do source <(COMPLETE=zsh \"$tool\"); done\n\
             setopt prompt_subst\n\
             PROMPT='(demo) ${{AWS_SSO_PROFILE:+[$AWS_SSO_PROFILE] }}%~ %# '\n"
        ),
        _ => format!(
            "aws-sso-env init fish | source\n\
             for tool in {tools}; COMPLETE=fish $tool | source; end\n\
             function fish_greeting; end\n\
             function fish_prompt; echo -n '(demo) '; set -q AWS_SSO_PROFILE; and echo -n \"[$AWS_SSO_PROFILE] \"; echo -n (prompt_pwd)' > '; end\n"
        ),
    }
}
