//! `aws-sso-env status`: what applies here, read from files only (no network), so a prompt
//! can call it.

use std::process::ExitCode;

use aws_sso_cli::Printer;
use aws_sso_core::Error;
use aws_sso_core::config::project::find_project_file;
use aws_sso_core::hook::{self, Used};
use aws_sso_core::resolve::{
    self, ProjectState, Resolution, ResolveError, ResolvedRole, RoleChoice, RoleSource,
};
use aws_sso_core::session::{self, Context, SessionRequest, TokenState};
use aws_sso_core::time::{format_cli, format_remaining};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::cli::{StatusArgs, StatusFormat};

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Status {
    project_file: Option<String>,
    /// `allowed`, `not allowed`, `changed since allowed`, `account changed since allowed`, or
    /// `invalid`.
    project_trust: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    /// `aws-sso use` (this shell's choice, which wins over the project file), `arguments`,
    /// `project file`, `profile NAME`.
    source: Option<String>,
    sso_session: Option<String>,
    account_id: Option<String>,
    account_name: Option<String>,
    role_name: Option<String>,
    /// The Identity Center role a chained profile assumes its role from.
    #[serde(skip_serializing_if = "Option::is_none")]
    assumed_from: Option<String>,
    region: Option<String>,
    /// The SSO login: `valid`, `expired`, `missing` or `unreadable`.
    session_state: Option<&'static str>,
    session_expires_at: Option<String>,
    session_refreshable: bool,
    /// Until when the token can be refreshed (the client registration's expiry), when it can.
    session_refreshable_until: Option<String>,
    /// When the session is over for good: `session_refreshable_until` when refreshable, else
    /// `session_expires_at`.
    session_ends_at: Option<String>,
    /// Role credentials in ~/.aws/cli/cache.
    cached_credentials_expire_at: Option<String>,
    /// What this shell holds (AWS_SSO_* and AWS_CREDENTIAL_EXPIRATION).
    shell_account_id: Option<String>,
    shell_role_name: Option<String>,
    shell_credentials_expire_at: Option<String>,
}

pub fn run(
    ctx: &Context,
    request: &SessionRequest,
    args: &StatusArgs,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    let now = Timestamp::now();
    let mut status = Status {
        shell_account_id: ctx.env.non_empty("AWS_SSO_ACCOUNT_ID").map(str::to_owned),
        shell_role_name: ctx.env.non_empty("AWS_SSO_ROLE_NAME").map(str::to_owned),
        shell_credentials_expire_at: ctx
            .env
            .non_empty("AWS_CREDENTIAL_EXPIRATION")
            .map(str::to_owned),
        ..Status::default()
    };
    let project = match aws_sso_core::resolve::project_in_current_dir(ctx) {
        Ok(project) => project,
        Err(e) => {
            // The file refused is still shown, so the problem names which one.
            status.project_file = ctx
                .env
                .current_dir()
                .and_then(find_project_file)
                .map(|path| path.display().to_string());
            status.project_trust = Some("invalid");
            status.problem = Some(e.to_string());
            None
        }
    };
    if let Some(state) = &project {
        let (file, trust) = match state {
            ProjectState::Trusted(f) => (f, "allowed"),
            ProjectState::NotAllowed(f) => (f, "not allowed"),
            ProjectState::Changed(f) => (f, "changed since allowed"),
        };
        status.project_file = Some(file.path.display().to_string());
        status.project_trust = Some(trust);
    }
    // `aws-sso use` in this shell wins over the project file: the hook exports its choice.
    let used = ctx.env.non_empty(hook::USED_VAR).and_then(|text| {
        serde_json::from_str::<Used>(text)
            .inspect_err(|e| tracing::warn!("ignoring an unreadable {}: {e}", hook::USED_VAR))
            .ok()
    });
    let used_here = used.is_some();
    let resolution = match used {
        Some(used) => used_role(ctx, used).map(Resolution::Resolved),
        None => resolve::resolve_role(ctx, request, &RoleChoice::default(), project.as_ref()),
    };
    match resolution {
        Ok(Resolution::Resolved(resolved)) => {
            status.source = Some(match &resolved.source {
                RoleSource::Arguments if used_here => USED.to_owned(),
                RoleSource::Arguments => "arguments".to_owned(),
                RoleSource::ProjectFile(_) => "project file".to_owned(),
                RoleSource::Profile(p) => format!("profile {p}"),
            });
            status.account_name = resolve::account_name(ctx, &resolved);
            status.cached_credentials_expire_at =
                resolve::cached_credentials(ctx, &resolved, SignedDuration::ZERO)
                    .map(|c| format_cli(c.expiration));
            session_state(ctx, &resolved.session, now, &mut status);
            if !resolved.chain.is_empty() {
                status.assumed_from =
                    Some(format!("{} in account {}", resolved.role_name, resolved.account_id));
            }
            status.account_id = Some(resolved.final_account_id().to_owned());
            status.role_name = Some(resolved.final_role_name().to_owned());
            status.region = resolved.region;
        }
        Ok(Resolution::NeedsAccounts(need)) => {
            status.problem = Some(if need.is_roles_only() {
                format!(
                    "the roles of account {} are not cached yet; `aws-sso-env` fetches them",
                    need.account
                )
            } else {
                format!(
                    "the account cache does not know account {} yet; `aws-sso-env` fetches the account list",
                    need.account
                )
            });
            session_state(ctx, &need.target, now, &mut status);
        }
        Err(e) => {
            // Allowed, but for the account its name meant then: not in effect any more.
            if matches!(e, Error::Resolve(ResolveError::ProjectAccountChanged { .. })) {
                status.project_trust = Some("account changed since allowed");
            }
            if status.problem.is_none() {
                status.problem = Some(e.to_string());
            }
        }
    }
    match args.output {
        StatusFormat::Json => {
            let mut text = serde_json::to_string_pretty(&status)?;
            text.push('\n');
            printer.data(&text)?;
        }
        // The path and the problem may hold escape sequences: the terminal must not run them.
        StatusFormat::Table => {
            printer.data(&aws_sso_core::shell::printable(&table(&status, now)))?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The source `aws-sso use` shows as.
const USED: &str = "aws-sso use (this shell, in every directory)";

/// The role `aws-sso use` chose, as the hook reaches it: by its id, in its session.
fn used_role(ctx: &Context, used: Used) -> Result<ResolvedRole, Error> {
    let request = SessionRequest {
        sso_session: used.sso_session,
        profile: used.profile,
        project_session: None,
    };
    Ok(ResolvedRole {
        session: session::resolve(ctx, &request)?,
        account_id: used.account_id,
        account_name: used.account_name,
        role_name: used.role_name,
        region: used.region,
        source: RoleSource::Arguments,
        chain: Vec::new(),
    })
}

fn session_state(
    ctx: &Context,
    target: &session::SessionTarget,
    now: Timestamp,
    status: &mut Status,
) {
    status.sso_session = Some(target.display_name());
    match session::read_token(ctx, target) {
        TokenState::Missing => status.session_state = Some("missing"),
        TokenState::Unreadable(_) => status.session_state = Some("unreadable"),
        TokenState::Present(token) => {
            let valid = token.remaining(now) > SignedDuration::ZERO;
            status.session_state = Some(if valid { "valid" } else { "expired" });
            status.session_expires_at = Some(format_cli(token.expires_at));
            status.session_refreshable = token.is_refreshable(now);
            let refreshable_until =
                token.registration_expires_at.filter(|_| status.session_refreshable);
            status.session_refreshable_until = refreshable_until.map(format_cli);
            status.session_ends_at = Some(format_cli(token.session_ends_at(now)));
        }
    }
}

fn when(text: &str, now: Timestamp) -> String {
    match aws_sso_core::time::parse_lenient(text) {
        Some(ts) if ts > now => format!("{text} (in {})", format_remaining(ts.duration_since(now))),
        Some(ts) => format!("{text} ({} ago)", format_remaining(now.duration_since(ts))),
        None => text.to_owned(),
    }
}

fn table(s: &Status, now: Timestamp) -> String {
    let mut rows: Vec<(&str, String)> = Vec::new();
    rows.push((
        "project file",
        match (&s.project_file, s.project_trust) {
            (Some(path), Some(trust)) => format!("{path} ({trust})"),
            _ => "none".to_owned(),
        },
    ));
    if let Some(source) = &s.source {
        rows.push(("from", source.clone()));
    }
    if let Some(id) = &s.account_id {
        let name = s.account_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        rows.push(("account", format!("{id}{name}")));
    }
    if let Some(role) = &s.role_name {
        rows.push(("role", role.clone()));
    }
    if let Some(from) = &s.assumed_from {
        rows.push(("assumed from", from.clone()));
    }
    if let Some(region) = &s.region {
        rows.push(("region", region.clone()));
    }
    if let Some(session) = &s.sso_session {
        let state = match (s.session_state, &s.session_expires_at) {
            (Some("valid"), Some(at)) => format!("logged in until {}", when(at, now)),
            (Some("expired"), Some(at)) => format!("expired at {}", when(at, now)),
            (Some("unreadable"), _) => "token file unreadable".to_owned(),
            _ => "not logged in".to_owned(),
        };
        let refresh = match (&s.session_refreshable_until, s.session_refreshable) {
            (Some(until), _) => format!(", refreshable until {}", when(until, now)),
            (None, true) => ", refreshable".to_owned(),
            (None, false) => String::new(),
        };
        rows.push(("sso session", format!("{session}: {state}{refresh}")));
    }
    if s.account_id.is_some() {
        rows.push((
            "cached credentials",
            s.cached_credentials_expire_at
                .as_deref()
                .map_or_else(|| "none".to_owned(), |at| format!("until {}", when(at, now))),
        ));
    }
    rows.push((
        "this shell",
        match (&s.shell_account_id, &s.shell_role_name, &s.shell_credentials_expire_at) {
            (Some(a), Some(r), Some(at)) => format!("{a} {r}, until {}", when(at, now)),
            (_, _, Some(at)) => format!("credentials until {}", when(at, now)),
            _ => "no aws-sso credentials".to_owned(),
        },
    ));
    if let Some(problem) = &s.problem {
        rows.push(("problem", problem.clone()));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter().map(|(k, v)| format!("{k:<width$}  {v}\n")).collect()
}
