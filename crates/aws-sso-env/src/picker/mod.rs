//! The picker: every account and role on a terminal, filtered as you type (docs/ARCHITECTURE.md
//! §1). Shown when a command that needs an account and role gets none, or a name that matches
//! several, and stdin and stderr are terminals; it draws on stderr, so `eval "$(aws-sso-env)"`
//! works with it.
//!
//! - this module: the rows, the filter and what one frame shows, with no terminal at all;
//! - `term`: raw mode, keys and drawing on the terminal;
//! - `history`: the recently chosen rows, shown first.

pub mod history;
pub mod term;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use aws_sso_cli::table::width;
use aws_sso_core::shell::printable;

/// One account and role (or an account whose roles are not known yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Shown when rows of several sessions are in one list.
    pub session: Option<String>,
    pub account_id: String,
    pub account_name: String,
    /// `None` when the account's roles have not been fetched yet: they are, once it is chosen.
    pub role: Option<String>,
}

impl Row {
    /// What the filter matches: the id, the name, the role and the session.
    fn haystack(&self) -> String {
        let mut text = format!("{} {}", self.account_name, self.account_id);
        for part in [&self.role, &self.session].into_iter().flatten() {
            text.push(' ');
            text.push_str(part);
        }
        text
    }
}

/// A key the picker acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Backspace,
    /// Ctrl-U: the query is emptied.
    ClearQuery,
    Up,
    Down,
    PageUp,
    PageDown,
    Enter,
    /// Esc, Ctrl-C, Ctrl-D, Ctrl-G.
    Cancel,
}

/// What a key led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Continue,
    Chosen(Row),
    Cancelled,
}

/// The state of one picker: the rows, the query, what matches it and which is highlighted.
pub struct Picker {
    title: String,
    rows: Vec<Row>,
    query: String,
    /// Indices into `rows` of the rows that match the query, best first.
    matches: Vec<usize>,
    selected: usize,
    /// The first match shown.
    offset: usize,
    /// The rank of each row in the history (0 = most recent), `usize::MAX` when absent.
    recency: Vec<usize>,
    recent: Vec<history::Entry>,
    matcher: Matcher,
}

impl Picker {
    /// `rows` in their display order; `recent` (most recent first) come first while nothing is
    /// typed, and before equal matches after. `query` is typed already (a name that matched
    /// several accounts).
    pub fn new(title: &str, rows: Vec<Row>, recent: &[history::Entry], query: &str) -> Picker {
        let recency = rows
            .iter()
            .map(|row| recent.iter().position(|e| e.is(row)).unwrap_or(usize::MAX))
            .collect();
        let mut picker = Picker {
            title: printable(title),
            rows,
            query: query.to_owned(),
            matches: Vec::new(),
            selected: 0,
            offset: 0,
            recency,
            recent: recent.to_vec(),
            matcher: Matcher::new(Config::DEFAULT),
        };
        picker.refilter();
        picker
    }

    /// How many rows match, of how many.
    pub fn counts(&self) -> (usize, usize) {
        (self.matches.len(), self.rows.len())
    }

    /// The highlighted row, if any matches.
    pub fn selected(&self) -> Option<&Row> {
        self.matches.get(self.selected).map(|&i| &self.rows[i])
    }

    /// The roles of an account whose rows were waiting for them (`role: None`) of `session`:
    /// its row becomes one row per role (none when it has no role to use), and the highlight
    /// stays on the row it was on.
    pub fn set_roles(&mut self, session: Option<&str>, account_id: &str, roles: &[String]) {
        let Some(at) = self.rows.iter().position(|r| {
            r.account_id == account_id && r.session.as_deref() == session && r.role.is_none()
        }) else {
            return;
        };
        let highlighted = self.selected().cloned();
        let template = self.rows[at].clone();
        let new: Vec<Row> =
            roles.iter().map(|role| Row { role: Some(role.clone()), ..template.clone() }).collect();
        let ranks: Vec<usize> = new
            .iter()
            .map(|row| self.recent.iter().position(|e| e.is(row)).unwrap_or(usize::MAX))
            .collect();
        self.rows.splice(at..=at, new);
        self.recency.splice(at..=at, ranks);
        self.refilter();
        if let Some(row) = highlighted {
            let same = |r: &Row| {
                r.account_id == row.account_id
                    && r.session == row.session
                    && (row.role.is_none() || r.role == row.role)
            };
            if let Some(n) = self.matches.iter().position(|&i| same(&self.rows[i])) {
                self.selected = n;
            }
        }
    }

    /// Acts on `key`; `page` is how many rows a frame shows.
    pub fn key(&mut self, key: Key, page: usize) -> Step {
        let last = self.matches.len().saturating_sub(1);
        match key {
            Key::Char(c) if !c.is_control() => {
                self.query.push(c);
                self.refilter();
            }
            Key::Char(_) => {}
            Key::Backspace => {
                if self.query.pop().is_some() {
                    self.refilter();
                }
            }
            Key::ClearQuery => {
                self.query.clear();
                self.refilter();
            }
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(last),
            Key::PageUp => self.selected = self.selected.saturating_sub(page.max(1)),
            Key::PageDown => self.selected = (self.selected + page.max(1)).min(last),
            Key::Enter => {
                return match self.selected() {
                    Some(row) => Step::Chosen(row.clone()),
                    None => Step::Continue,
                };
            }
            Key::Cancel => return Step::Cancelled,
        }
        Step::Continue
    }

    /// The rows that match the query, best first: by the fuzzy score (any part of the id, name,
    /// role or session; case-insensitive), then the most recently chosen, then display order.
    /// An empty query keeps every row, the recent ones first.
    fn refilter(&mut self) {
        let mut scored: Vec<(u32, usize, usize)> = Vec::with_capacity(self.rows.len());
        let query = self.query.trim();
        if query.is_empty() {
            scored.extend((0..self.rows.len()).map(|i| (0, self.recency[i], i)));
        } else {
            let pattern =
                Pattern::new(query, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy);
            let mut buf = Vec::new();
            for (i, row) in self.rows.iter().enumerate() {
                let haystack = row.haystack();
                if let Some(score) =
                    pattern.score(Utf32Str::new(&haystack, &mut buf), &mut self.matcher)
                {
                    scored.push((score, self.recency[i], i));
                }
            }
        }
        scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        self.matches = scored.into_iter().map(|(_, _, i)| i).collect();
        self.selected = 0;
        self.offset = 0;
    }

    /// One frame, `width` columns by at most `height` lines: the title and the query, then the
    /// matching rows (the highlighted one marked `>`), then how many match. Plain text: the
    /// terminal layer adds the highlight.
    pub fn frame(&mut self, width_cols: usize, height: usize) -> Frame {
        let page = height.saturating_sub(2).max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        let shown: Vec<&Row> =
            self.matches.iter().skip(self.offset).take(page).map(|&i| &self.rows[i]).collect();
        let name_width =
            shown.iter().map(|r| width(&printable(&r.account_name))).max().unwrap_or(0);
        let several_sessions = self.rows.iter().any(|r| r.session.is_some());
        let mut lines = Vec::with_capacity(page + 2);
        lines.push(fit(&format!("{} > {}", self.title, printable(&self.query)), width_cols));
        for (n, row) in shown.iter().enumerate() {
            let marker = if self.offset + n == self.selected { '>' } else { ' ' };
            let name = printable(&row.account_name);
            let pad = " ".repeat(name_width.saturating_sub(width(&name)));
            let role = match &row.role {
                Some(role) => printable(role),
                None => "(roles fetched when chosen)".to_owned(),
            };
            let mut line = format!("{marker} {name}{pad}  {}  {role}", row.account_id);
            if several_sessions && let Some(session) = &row.session {
                line.push_str(&format!("  [{}]", printable(session)));
            }
            lines.push(fit(&line, width_cols));
        }
        let (matching, total) = self.counts();
        lines.push(fit(
            &format!("  {matching}/{total}  ↑↓ move · Enter choose · Esc cancel"),
            width_cols,
        ));
        Frame { lines, selected_line: (!shown.is_empty()).then(|| 1 + self.selected - self.offset) }
    }
}

/// What one frame shows.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub lines: Vec<String>,
    /// The line of the highlighted row.
    pub selected_line: Option<usize>,
}

/// `text` cut to `max` columns (an ellipsis marks the cut).
fn fit(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        let mut next = out.clone();
        next.push(c);
        if width(&next) + 1 > max {
            break;
        }
        out = next;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
