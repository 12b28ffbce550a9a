//! `cargo xtask codegen [--check]`: the files generated from the code and committed.
//!
//! Each generated file is a path (from the workspace root) and the function that makes its text.
//! Without `--check` the files are rewritten when they differ; with it nothing is written and
//! the command fails when any file is stale, so CI catches a forgotten run.

use std::path::Path;

use anyhow::bail;

/// Makes the whole text of one generated file.
type Generator = fn() -> String;

/// What codegen produces: (path from the workspace root, generator).
const GENERATED: &[(&str, Generator)] =
    &[("schema/aws-sso.schema.json", aws_sso_core::config::project::json_schema)];

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask codegen [--check]"),
    };
    let root = super::workspace_root();
    let mut stale = Vec::new();
    for (path, generate) in GENERATED {
        let file = root.join(path);
        let text = generate();
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
            stale.push(*path);
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
