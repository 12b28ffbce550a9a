//! `cargo xtask install [--prefix DIR]`: release binaries, man pages and completion files, each
//! where its reader looks, then the lines to add to each shell's rc file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::{BINARIES, build_binaries, step, target_dir, workspace_root};

/// Installs into `prefix`, or `~/.local` when it is `None`.
pub fn run(prefix: Option<PathBuf>) -> anyhow::Result<()> {
    let prefix = match prefix {
        Some(prefix) => prefix,
        None => default_prefix()?,
    };
    step("Building release binaries");
    build_binaries(&["--release"])?;
    let release = target_dir().join("release");

    let bin_dir = prefix.join("bin");
    step(&format!("Binaries → {}", bin_dir.display()));
    for bin in BINARIES {
        let name = format!("{bin}{}", std::env::consts::EXE_SUFFIX);
        copy(&release.join(&name), &bin_dir.join(&name), 0o755)?;
    }

    let root = workspace_root();
    let man1 = root.join("man/man1");
    if man1.is_dir() {
        let dest = prefix.join("share/man/man1");
        step(&format!("Man pages → {}", dest.display()));
        for page in files(&man1)? {
            copy(&page, &dest.join(page.file_name().context("a file name")?), 0o644)?;
        }
    }

    // Where each shell looks without any setup: bash-completion's lazy-loading dir, zsh's
    // site-functions (on fpath in most zsh builds), fish's vendor dir. PowerShell and elvish
    // have no such place: completions/README.md says how to load theirs.
    let completions = root.join("completions");
    let places = [
        ("bash", "share/bash-completion/completions"),
        ("zsh", "share/zsh/site-functions"),
        ("fish", "share/fish/vendor_completions.d"),
    ];
    for (shell, place) in places {
        let from = completions.join(shell);
        if !from.is_dir() {
            continue;
        }
        let dest = prefix.join(place);
        step(&format!("{shell} completions → {}", dest.display()));
        for file in files(&from)? {
            copy(&file, &dest.join(file.file_name().context("a file name")?), 0o644)?;
        }
    }

    step("Add to your shell's rc file");
    let on_path =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d == bin_dir));
    let path_line = if on_path {
        String::new()
    } else {
        format!("export PATH=\"{}:$PATH\"; ", bin_dir.display())
    };
    #[allow(clippy::print_stdout)]
    {
        println!("  ~/.bashrc:                 {path_line}eval \"$(aws-sso-env init bash)\"");
        println!("  ~/.zshrc:                  {path_line}eval \"$(aws-sso-env init zsh)\"");
        println!(
            "  ~/.config/fish/config.fish: {}aws-sso-env init fish | source",
            if on_path { String::new() } else { format!("fish_add_path {}; ", bin_dir.display()) }
        );
        println!(
            "  man pages: add {} to MANPATH if `man aws-sso` finds nothing",
            prefix.join("share/man").display()
        );
    }
    Ok(())
}

fn default_prefix() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set: use --prefix DIR")?;
    Ok(Path::new(&home).join(".local"))
}

fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .collect();
    out.sort();
    Ok(out)
}

/// Copies `from` to `to` (creating its directory), replacing what was there, with `mode`.
fn copy(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    let dir = to.parent().context("a destination directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Write beside and rename, so a running binary is replaced rather than overwritten in place.
    let temp =
        dir.join(format!(".{}.tmp", to.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    std::fs::copy(from, &temp)
        .with_context(|| format!("cannot copy {} to {}", from.display(), temp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    std::fs::rename(&temp, to).with_context(|| format!("cannot install {}", to.display()))?;
    #[allow(clippy::print_stdout)]
    {
        println!("  {}", to.display());
    }
    Ok(())
}
