//! A hub role from IAM Identity Center and the roles assumed from it: profiles with `role_arn`
//! and `source_profile`, as the AWS CLI defines them. Every mistake in such a chain ends in one
//! line naming the profile, its file and the fix, before any request and with nothing cached.

use aws_sso_tests::sandbox::{ONE_SESSION, Sandbox};
use aws_sso_tests::with_filters;
use aws_sso_tests::{stderr, stdout};

/// [`ONE_SESSION`] (whose `dev` is the hub role), then `rest`.
fn config(rest: &str) -> String {
    format!("{ONE_SESSION}\n{rest}")
}

/// Runs `aws-sso-env ARGS` with `AWS_PROFILE` (when given) in the sandbox.
fn env_cmd(sandbox: &Sandbox, aws_profile: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = sandbox.cmd("aws-sso-env");
    if let Some(profile) = aws_profile {
        cmd.env("AWS_PROFILE", profile);
    }
    cmd.args(args).output().expect("run aws-sso-env")
}

/// Each mistake, through each way of naming the profile: the same one line, exit 2, nothing on
/// stdout, no request, nothing cached.
fn assert_refused(sandbox: &Sandbox, profile: &str, snapshot: &str) {
    let before = sandbox.emulator.operations().len();
    let runs = [
        env_cmd(sandbox, Some(profile), &["exec", "--", "env"]),
        env_cmd(sandbox, None, &["--profile", profile, "-f", "json"]),
        env_cmd(sandbox, None, &["credential-process", "--profile", profile]),
    ];
    let first = stderr(&runs[0]);
    for out in &runs {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
        assert!(stdout(out).is_empty(), "{}", stdout(out));
        assert_eq!(stderr(out).trim_end().lines().count(), 1, "{}", stderr(out));
        assert_eq!(stderr(out), first);
    }
    assert_eq!(sandbox.emulator.operations().len(), before, "no request");
    let cached = std::fs::read_dir(sandbox.cli_cache()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(cached, 0, "nothing cached");
    with_filters!(sandbox, { insta::assert_snapshot!(snapshot, first) });
}

#[test]
fn a_loop_of_source_profiles_is_refused_naming_every_profile() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config(
            "[profile a]\nrole_arn = arn:aws:iam::200000000002:role/A\nsource_profile = b\n\n\
             [profile b]\nrole_arn = arn:aws:iam::200000000002:role/B\nsource_profile = a\n",
        ),
    )
    .expect("write config");
    assert_refused(&sandbox, "a", "chain_loop");
}

#[test]
fn a_source_profile_that_does_not_exist_is_refused() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config("[profile spoke]\nrole_arn = arn:aws:iam::200000000002:role/Spoke\nsource_profile = devv\n"),
    )
    .expect("write config");
    assert_refused(&sandbox, "spoke", "chain_missing_source");
}

#[test]
fn a_role_arn_that_is_not_an_arn_is_refused() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config("[profile spoke]\nrole_arn = Spoke\nsource_profile = dev\n"),
    )
    .expect("write config");
    assert_refused(&sandbox, "spoke", "chain_not_an_arn");
}

#[test]
fn a_source_profile_without_credentials_is_refused() {
    let sandbox = Sandbox::logged_in(&[]);
    std::fs::write(
        sandbox.config_path(),
        config(
            "[profile plain]\nregion = eu-west-1\n\n\
             [profile spoke]\nrole_arn = arn:aws:iam::200000000002:role/Spoke\nsource_profile = plain\n",
        ),
    )
    .expect("write config");
    assert_refused(&sandbox, "spoke", "chain_source_without_credentials");
}
