//! `cargo xtask demo`: the whole story on the emulator, in a throw-away HOME.

use anyhow::bail;
use aws_sso_tests::Sandbox;

use crate::{build_binaries, step, target_dir};

const CONFIG: &str = "[sso-session demo]\nsso_start_url = https://d-0000000000.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";

pub fn run() -> anyhow::Result<()> {
    step("Building the tools");
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
            "echo \"running as $AWS_SSO_PROFILE with key $AWS_ACCESS_KEY_ID until $AWS_CREDENTIAL_EXPIRATION\"",
        ],
    )?;
    step("Done. Against a real IAM Identity Center, see the Quick start in README.md.");
    Ok(())
}
