//! The output formats of `aws-sso-ls`: a table for people, JSON, CSV and ids for programs.

use aws_sso_cli::{Printer, Style};
use aws_sso_core::cache::accounts::CachedAccount;
use serde::Serialize;

use crate::cli::OutputFormat;

/// One line of a listing: an account and one of its roles, or an account alone (with
/// `--accounts`, or when it has no role at all, so that no account silently disappears).
pub struct Row<'a> {
    pub account: &'a CachedAccount,
    pub role: Option<&'a str>,
}

pub struct View {
    pub format: OutputFormat,
    pub accounts_only: bool,
    pub wide: bool,
}

pub fn render(rows: &[Row<'_>], view: &View, printer: Printer) -> anyhow::Result<String> {
    Ok(match view.format {
        OutputFormat::Table => table(rows, view, printer),
        OutputFormat::Json => json(rows, view)?,
        OutputFormat::Csv => csv(rows, view),
        OutputFormat::Ids => ids(rows, view),
    })
}

fn columns(view: &View) -> Vec<&'static str> {
    let mut header = vec!["ACCOUNT ID", "ACCOUNT NAME"];
    if !view.accounts_only {
        header.push("ROLE");
    }
    if view.wide {
        header.push("EMAIL");
    }
    header
}

fn cells<'a>(row: &Row<'a>, view: &View) -> Vec<&'a str> {
    let mut cells = vec![row.account.account_id.as_str(), row.account.account_name.as_str()];
    if !view.accounts_only {
        cells.push(row.role.unwrap_or("(no role)"));
    }
    if view.wide {
        cells.push(row.account.email_address.as_deref().unwrap_or("-"));
    }
    cells
}

/// Aligned columns on a terminal; tab-separated fields otherwise, so `cut -f` and `awk -F'\t'`
/// read it and nothing decorative reaches a pipe.
fn table(rows: &[Row<'_>], view: &View, printer: Printer) -> String {
    let header = columns(view);
    let body: Vec<Vec<&str>> = rows.iter().map(|r| cells(r, view)).collect();
    let mut out = String::new();
    if !printer.terminal {
        for line in std::iter::once(&header).chain(&body) {
            out.push_str(&line.iter().map(|c| sanitize(c)).collect::<Vec<_>>().join("\t"));
            out.push('\n');
        }
        return out;
    }
    let lines: Vec<Vec<String>> = std::iter::once(&header)
        .chain(&body)
        .map(|line| line.iter().map(|c| sanitize(c)).collect())
        .collect();
    aws_sso_cli::table::layout(&lines, |row, _, cell| {
        if row == 0 { printer.paint(cell, Style::Bold) } else { cell.to_owned() }
    })
}

/// Control characters in a name would move the cursor or break a line: show them escaped.
fn sanitize(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonAccount<'a> {
    account_id: &'a str,
    account_name: &'a str,
    email_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<&'a str>>,
}

/// An array of accounts in listing order, each with the roles that matched.
fn json(rows: &[Row<'_>], view: &View) -> anyhow::Result<String> {
    let mut accounts: Vec<JsonAccount<'_>> = Vec::new();
    for row in rows {
        let same = accounts.last().is_some_and(|a| a.account_id == row.account.account_id);
        if !same {
            accounts.push(JsonAccount {
                account_id: &row.account.account_id,
                account_name: &row.account.account_name,
                email_address: row.account.email_address.as_deref(),
                roles: (!view.accounts_only).then(Vec::new),
            });
        }
        if let (Some(roles), Some(role)) =
            (accounts.last_mut().and_then(|a| a.roles.as_mut()), row.role)
        {
            roles.push(role);
        }
    }
    let mut text = serde_json::to_string_pretty(&accounts)?;
    text.push('\n');
    Ok(text)
}

/// RFC 4180: a header, fields quoted when they hold a comma, a quote or a line break.
fn csv(rows: &[Row<'_>], view: &View) -> String {
    let mut out = String::new();
    let header: &[&str] = if view.accounts_only {
        &["accountId", "accountName", "emailAddress"]
    } else {
        &["accountId", "accountName", "emailAddress", "roleName"]
    };
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let mut fields = vec![
            row.account.account_id.as_str(),
            row.account.account_name.as_str(),
            row.account.email_address.as_deref().unwrap_or(""),
        ];
        if !view.accounts_only {
            fields.push(row.role.unwrap_or(""));
        }
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// `ACCOUNT_ID ROLE` per line (`ACCOUNT_ID` with `--accounts`); accounts without a role have
/// nothing to use and are left out.
fn ids(rows: &[Row<'_>], view: &View) -> String {
    let mut out = String::new();
    for row in rows {
        match (view.accounts_only, row.role) {
            (true, _) => out.push_str(&row.account.account_id),
            (false, Some(role)) => {
                out.push_str(&row.account.account_id);
                out.push(' ');
                out.push_str(role);
            }
            (false, None) => continue,
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("$(rm -rf /); `x`"), "$(rm -rf /); `x`");
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(sanitize("a\tb\x1b[31m"), "a\\tb\\u{1b}[31m");
        assert_eq!(sanitize("Zürich"), "Zürich");
    }
}
