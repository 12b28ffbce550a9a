//! Aligned columns for people: each column as wide as its widest cell, two spaces between
//! columns, the last cell of a line unpadded and nothing trailing. Widths are display widths
//! (terminal columns, by `unicode-width`), not characters: `東京` takes four columns, `é`
//! written as `e` and a combining accent takes one, and the columns after them stay aligned.

use unicode_width::UnicodeWidthStr as _;

/// The columns a terminal gives `text`.
pub fn width(text: &str) -> usize {
    text.width()
}

/// `rows` (a header first, when there is one) as aligned lines, each ending in a newline.
/// `paint(row, column, cell)` may decorate a cell (bold, color): widths are measured before, so
/// escape codes never count. Cells must hold no control character: sanitize them first.
pub fn layout<R, C>(rows: &[R], paint: impl Fn(usize, usize, &str) -> String) -> String
where
    R: AsRef<[C]>,
    C: AsRef<str>,
{
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            let w = width(cell.as_ref());
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        let cells = row.as_ref();
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = cell.as_ref();
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(&paint(r, i, cell));
            if i + 1 < cells.len() {
                line.push_str(&" ".repeat(widths[i].saturating_sub(width(cell))));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(rows: &[Vec<&str>]) -> String {
        layout(rows, |_, _, cell| cell.to_owned())
    }

    #[test]
    fn ascii_columns_are_padded_to_the_widest_cell() {
        let rows = [vec!["NAME", "PLACE"], vec!["ls", "/usr/bin/aws-sso-ls"], vec!["env", ""]];
        assert_eq!(plain(&rows), "NAME  PLACE\nls    /usr/bin/aws-sso-ls\nenv\n");
    }

    #[test]
    fn wide_and_combining_characters_keep_the_columns_aligned() {
        // `東京` is two characters four columns wide; `cafe\u{301}` five characters in four.
        let rows = [vec!["NAME", "ROLE"], vec!["東京", "Admin"], vec!["cafe\u{301}", "Dev"]];
        let text = plain(&rows);
        assert_eq!(text, "NAME  ROLE\n東京  Admin\ncafe\u{301}  Dev\n");
        // The second column starts at terminal column 6 on every line.
        for line in text.lines() {
            let (first, _) = line.split_once("  ").expect("two columns");
            assert_eq!(width(first), 4, "{line}");
        }

        let rows = [vec!["東京", "x", "y"], vec!["a", "cafe\u{301}s", "z"]];
        assert_eq!(plain(&rows), "東京  x      y\na     cafe\u{301}s  z\n");
    }

    #[test]
    fn paint_does_not_count_toward_widths() {
        let rows = [vec!["A", "B"], vec!["long", "x"]];
        let text =
            layout(
                &rows,
                |r, _, cell| {
                    if r == 0 { format!("\x1b[1m{cell}\x1b[0m") } else { cell.to_owned() }
                },
            );
        assert_eq!(text, "\x1b[1mA\x1b[0m     \x1b[1mB\x1b[0m\nlong  x\n");
    }
}
