//! `aws-sso-login configure`: add or update an `[sso-session]`, prompting for what is missing
//! when on a terminal.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context as _, bail};

use aws_sso_cli::UsageError;
use aws_sso_core::config::{SectionKind, parse_scopes, update_config_file};
use aws_sso_core::session::Context;

use crate::cli::ConfigureArgs;
use aws_sso_cli::Printer;

pub fn run(
    ctx: &Context,
    session: Option<&str>,
    args: &ConfigureArgs,
    printer: Printer,
) -> anyhow::Result<()> {
    let existing = session.and_then(|name| ctx.config.sso_session(name).ok());
    let interactive = std::io::stdin().is_terminal();
    let name = match session {
        Some(name) => name.to_owned(),
        None if interactive => ask("SSO session name", None)?,
        None => return Err(usage("--sso-session NAME")),
    };
    validate_name(&name)?;
    let start_url = match (&args.start_url, &existing) {
        (Some(url), _) => url.clone(),
        (None, existing) if interactive => {
            ask("SSO start URL", existing.as_ref().map(|s| s.start_url.as_str()))?
        }
        (None, Some(existing)) => existing.start_url.clone(),
        (None, None) => return Err(usage("--start-url URL")),
    };
    validate_start_url(&start_url)?;
    // An empty region is one a custom-domain session leaves to its first login.
    let known = existing.as_ref().map(|s| s.region.as_str()).filter(|r| !r.is_empty());
    let learnable = aws_sso_core::start_url::may_name_the_region(&start_url);
    let region = match (&args.region, known) {
        (Some(region), _) => Some(region.clone()),
        (None, known) if interactive && !learnable => Some(ask("SSO region", known)?),
        (None, Some(known)) => Some(known.to_owned()),
        (None, None) if learnable => None,
        (None, None) => return Err(usage("--region REGION")),
    };
    if let Some(region) = &region {
        validate_region(region)?;
    }
    let scopes = parse_scopes(&args.scopes).join(",");
    let path = &ctx.files.config;
    let mut values = vec![("sso_start_url", start_url.as_str())];
    values.extend(region.as_deref().map(|r| ("sso_region", r)));
    values.push(("sso_registration_scopes", &scopes));
    update_config_file(&ctx.env, path, SectionKind::SsoSession, &name, &values)?;
    let verb = if existing.is_some() { "Updated" } else { "Added" };
    let learned = if region.is_none() {
        " Its region is learned from where the start URL leads, at the first login."
    } else {
        ""
    };
    printer.message(&format!(
        "{verb} [sso-session {name}] in {}.{learned}\nLog in with: aws-sso-login --sso-session {name}",
        path.display()
    ));
    Ok(())
}

fn usage(missing: &str) -> anyhow::Error {
    UsageError(format!(
        "missing {missing}; stdin is not a terminal, so it cannot be asked for.\nUsage: aws-sso-login configure --sso-session NAME --start-url URL --region REGION"
    ))
    .into()
}

fn ask(question: &str, default: Option<&str>) -> anyhow::Result<String> {
    let mut err = std::io::stderr().lock();
    match default {
        Some(d) => write!(err, "{question} [{d}]: ")?,
        None => write!(err, "{question}: ")?,
    }
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("could not read the answer")?;
    let answer = line.trim();
    match (answer.is_empty(), default) {
        (true, Some(d)) => Ok(d.to_owned()),
        (true, None) => bail!("no {} given", question.to_lowercase()),
        (false, _) => Ok(answer.to_owned()),
    }
}

fn validate_name(name: &str) -> anyhow::Result<()> {
    let ok =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if !ok {
        return Err(UsageError(format!(
            "invalid sso-session name {name:?}: use letters, digits and - _ . @ only (it becomes the section [sso-session {name}])"
        ))
        .into());
    }
    Ok(())
}

fn validate_start_url(url: &str) -> anyhow::Result<()> {
    let host = url.strip_prefix("https://").map(|rest| rest.split('/').next().unwrap_or(""));
    match host {
        Some(host) if !host.is_empty() && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(UsageError(format!(
            "invalid start URL {url:?}: it must be an https:// URL such as https://d-1234567890.awsapps.com/start (the AWS access portal URL of your organization)"
        ))
        .into()),
    }
}

fn validate_region(region: &str) -> anyhow::Result<()> {
    aws_sso_cli::parse_region(region)
        .map(drop)
        .map_err(|why| UsageError(format!("invalid region {region:?}: {why}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_values_and_rejects_typos() {
        assert!(validate_start_url("https://d-1234567890.awsapps.com/start").is_ok());
        assert!(validate_start_url("http://d-1234567890.awsapps.com/start").is_err());
        assert!(validate_start_url("d-1234567890.awsapps.com").is_err());
        assert!(validate_region("eu-west-1").is_ok());
        assert!(validate_region("us-gov-west-1").is_ok());
        assert!(validate_region("euwest1").is_err());
        assert!(validate_region("eu-west").is_err());
        assert!(validate_name("corp").is_ok());
        assert!(validate_name("my corp").is_err());
        assert!(validate_name("a]b").is_err());
    }
}
