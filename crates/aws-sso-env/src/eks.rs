//! `aws-sso-env eks-token --cluster NAME [ACCOUNT [ROLE]]`: kubectl's exec credential plugin.
//!
//! The account and role resolve as for every command (arguments, the project file, `AWS_PROFILE`
//! and chained profiles). A cached token is answered from two small file reads; otherwise the
//! role credentials (cached or fetched) presign GetCallerIdentity locally. The exec-plugin
//! contract: the ExecCredential JSON on stdout, or one line on stderr and a non-zero exit; never
//! a prompt, a picker or a browser, since kubectl runs it without a terminal.

use std::process::ExitCode;

use aws_sso_cli::{Layout, Printer};
use aws_sso_core::credentials::CREDENTIAL_PROCESS_WINDOW;
use aws_sso_core::eks::{self, TokenRequest};
use aws_sso_core::env::Environment;
use aws_sso_core::resolve::{self, ResolvedRole, RoleChoice};
use aws_sso_core::session::Context;

use crate::NAME;
use crate::cli::{Cli, Command, EksTokenArgs};

pub fn run(cli: &Cli, env: Environment, printer: Printer) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let Some(Command::EksToken(args)) = &cli.command else {
            anyhow::bail!("not an eks-token command");
        };
        // Lenient: a bad value in config.yaml must not break every kubectl call.
        let ctx = Context::load_lenient(env, cli.global.session.profile.as_deref())?;
        printer.data(&token_json(&ctx, cli, args)?)?;
        Ok(())
    })();
    aws_sso_cli::finish_as(NAME, result.map(|()| ExitCode::SUCCESS), Layout::OneLine)
}

fn token_json(ctx: &Context, cli: &Cli, args: &EksTokenArgs) -> anyhow::Result<String> {
    let request = cli.global.session.request();
    let choice = RoleChoice {
        account: args.role.account.clone(),
        role: args.role.role.clone(),
        assume_role: args.role.assume_role.clone(),
    };
    let api_version = eks::api_version(&ctx.env);
    let now = jiff::Timestamp::now();
    // From the files alone when they can say which role: then a cached token needs nothing else.
    if let Some(resolved) = resolve::resolve_offline(ctx, &request, &choice) {
        let (region, endpoint) = region_and_endpoint(ctx, &resolved, args)?;
        if let Some(path) = cache_path(ctx, &resolved, args, &region, &endpoint)
            && let Some(token) = eks::cached(&path, now)
        {
            return Ok(eks::exec_credential(&token, api_version));
        }
    }
    // The credentials must outlast the token kubectl keeps.
    let (resolved, creds) =
        resolve::role_credentials(ctx, &request, &choice, CREDENTIAL_PROCESS_WINDOW)?;
    let (region, endpoint) = region_and_endpoint(ctx, &resolved, args)?;
    let token = eks::token(
        &TokenRequest { cluster: &args.cluster, sts_endpoint: &endpoint, region: &region },
        &creds,
        now,
    );
    if let Some(path) = cache_path(ctx, &resolved, args, &region, &endpoint)
        && let Err(e) = eks::save(&path, &token)
    {
        // The token is good whatever happens to the cache: the next call signs another.
        tracing::warn!("{e}");
    }
    Ok(eks::exec_credential(&token, api_version))
}

/// The cluster's region (`--region`, else the role's, else `AWS_REGION`/`AWS_DEFAULT_REGION`,
/// else the SSO region) and its STS endpoint, chosen as for every AWS endpoint.
fn region_and_endpoint(
    ctx: &Context,
    resolved: &ResolvedRole,
    args: &EksTokenArgs,
) -> anyhow::Result<(String, String)> {
    let region = args
        .region
        .clone()
        .or_else(|| resolved.region.clone())
        .or_else(|| ctx.env.non_empty("AWS_REGION").map(str::to_owned))
        .or_else(|| ctx.env.non_empty("AWS_DEFAULT_REGION").map(str::to_owned))
        .unwrap_or_else(|| resolved.session.region.clone());
    let sts = ctx.sts_client(&region, resolved.session.profile.as_deref())?;
    Ok((region, sts.base_url().to_owned()))
}

/// The token's cache file: one per cluster, identity (the role and every role assumed from it),
/// region and endpoint.
fn cache_path(
    ctx: &Context,
    resolved: &ResolvedRole,
    args: &EksTokenArgs,
    region: &str,
    endpoint: &str,
) -> Option<std::path::PathBuf> {
    let mut parts = vec![
        args.cluster.as_str(),
        resolved.session.token_identifier(),
        resolved.account_id.as_str(),
        resolved.role_name.as_str(),
    ];
    for hop in &resolved.chain {
        parts.push(&hop.account_id);
        parts.push(&hop.role_name);
    }
    parts.extend([region, endpoint]);
    eks::cache_path(&ctx.env, &parts)
}
