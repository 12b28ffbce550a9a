//! `aws-sso-login status`: every configured session, or the one the flags name, as a table or
//! JSON.

use aws_sso_core::session::{self, Context, SessionStatus, SessionTarget};
use aws_sso_core::time::{format_cli, format_remaining};
use jiff::Timestamp;

use crate::cli::{OutputFormat, StatusArgs};
use aws_sso_cli::{Printer, Style};

pub fn run(
    ctx: &Context,
    only: Option<&SessionTarget>,
    args: &StatusArgs,
    printer: Printer,
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let sessions = match only {
        Some(target) => vec![session::session_status(ctx, target.clone(), now)],
        None => session::status(ctx, now),
    };
    match args.output {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&sessions)?;
            text.push('\n');
            printer.data(&text)?;
        }
        OutputFormat::Table if sessions.is_empty() => printer.message(&format!(
            "No sso-session is configured in {}.\nAdd one with: aws-sso-login configure --sso-session NAME --start-url URL --region REGION",
            ctx.files.config.display()
        )),
        OutputFormat::Table => {
            printer.data(&table(&sessions, now, printer))?;
            for s in sessions.iter().filter_map(|s| s.problem.as_deref()) {
                tracing::warn!("{s}");
            }
        }
    }
    Ok(())
}

fn table(sessions: &[SessionStatus], now: Timestamp, printer: Printer) -> String {
    let header =
        ["SESSION", "START URL", "REGION", "STATUS", "EXPIRES", "REFRESHABLE", "REGISTRATION"];
    let rows: Vec<[String; 7]> = sessions
        .iter()
        .map(|s| {
            let name = match (&s.sso_session, &s.profile) {
                (Some(name), _) => name.clone(),
                (None, Some(profile)) => format!("profile {profile}"),
                (None, None) => "-".to_owned(),
            };
            let status = match (s.state, s.refreshable) {
                ("valid", _) => "logged in",
                ("expired", true) => "expired, refreshable",
                ("expired", false) => "expired",
                ("unreadable", _) => "unreadable",
                _ => "not logged in",
            };
            [
                name,
                s.start_url.clone(),
                s.region.clone().unwrap_or_else(|| "(not known yet)".to_owned()),
                status.to_owned(),
                s.expires_at.map_or_else(|| "-".to_owned(), |t| when(t, now)),
                if s.refreshable { "yes" } else { "no" }.to_owned(),
                s.registration_expires_at.map_or_else(|| "-".to_owned(), |t| when(t, now)),
            ]
        })
        .collect();
    let header = header.map(str::to_owned);
    let lines: Vec<&[String]> =
        std::iter::once(&header[..]).chain(rows.iter().map(|r| &r[..])).collect();
    aws_sso_cli::table::layout(&lines, |row, column, cell| match (row, column, cell) {
        (0, _, _) => printer.paint(cell, Style::Bold),
        (_, 3, "logged in") => printer.paint(cell, Style::Good),
        (_, 3, "expired, refreshable") => printer.paint(cell, Style::Warn),
        (_, 3, "expired" | "unreadable") => printer.paint(cell, Style::Bad),
        _ => cell.to_owned(),
    })
}

/// `2026-11-26T22:53:00Z (in 7h 59m)`, or `(… ago)` once past.
fn when(ts: Timestamp, now: Timestamp) -> String {
    let d = ts.duration_since(now);
    if d.is_negative() {
        format!("{} ({} ago)", format_cli(ts), format_remaining(-d))
    } else {
        format!("{} (in {})", format_cli(ts), format_remaining(d))
    }
}
