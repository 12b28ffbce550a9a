//! The closest known command to a mistyped one, for "did you mean …?".

/// The name among `names` closest to `typed`, when it is close enough to be what was meant;
/// ties go to the first in alphabetical order so the hint never changes between runs.
pub fn closest<'a>(typed: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_lower = typed.to_lowercase();
    names
        .into_iter()
        .filter_map(|name| {
            let d = distance(&typed_lower, &name.to_lowercase());
            let longer = typed.chars().count().max(name.chars().count());
            (d <= close_enough(longer)).then_some((d, name))
        })
        .min()
        .map(|(_, name)| name)
}

/// A third of the longer name, rounded up: `lss` is a typo of `ls`, `xyz` is not one of `env`.
fn close_enough(len: usize) -> usize {
    len.div_ceil(3)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment),
/// since `sl` for `ls` is one slip of the fingers.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["emulator", "env", "help", "login", "ls"];

    fn suggest(typed: &str) -> Option<&'static str> {
        closest(typed, NAMES.iter().copied())
    }

    #[test]
    fn typos_find_the_command() {
        assert_eq!(suggest("lss"), Some("ls"));
        assert_eq!(suggest("sl"), Some("ls"));
        assert_eq!(suggest("LS"), Some("ls"));
        assert_eq!(suggest("lgoin"), Some("login"));
        assert_eq!(suggest("log"), Some("login"));
        assert_eq!(suggest("evn"), Some("env"));
        assert_eq!(suggest("emulatr"), Some("emulator"));
    }

    #[test]
    fn unrelated_words_find_nothing() {
        assert_eq!(suggest("xyz"), None);
        assert_eq!(suggest("deploy"), None);
        assert_eq!(suggest("e"), None);
        assert_eq!(closest("ls", std::iter::empty()), None);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("", "ls"), 2);
        assert_eq!(distance("ls", "ls"), 0);
        assert_eq!(distance("ls", "sl"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("héllo", "hello"), 1);
    }
}
