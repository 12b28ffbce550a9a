//! `aws-sso-login status`: every configured session, as a table or JSON.

use aws_sso_core::session::{self, Context, SessionStatus};
use aws_sso_core::time::{format_cli, format_remaining};
use jiff::Timestamp;

use crate::cli::{OutputFormat, StatusArgs};
use aws_sso_cli::{Printer, Style};

pub fn run(ctx: &Context, args: &StatusArgs, printer: Printer) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let sessions = session::status(ctx, now);
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
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String, styles: &dyn Fn(usize, &str) -> String| {
        let mut parts: Vec<String> = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            let last = i + 1 == cells.len();
            let styled = styles(i, cell);
            parts.push(if last { styled } else { format!("{styled}{}", " ".repeat(pad)) });
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    line(&header, &mut out, &|_, c| printer.paint(c, Style::Bold));
    for row in &rows {
        line(row, &mut out, &|i, c| match (i, c) {
            (3, "logged in") => printer.paint(c, Style::Good),
            (3, "expired, refreshable") => printer.paint(c, Style::Warn),
            (3, "expired" | "unreadable") => printer.paint(c, Style::Bad),
            _ => c.to_owned(),
        });
    }
    out
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
