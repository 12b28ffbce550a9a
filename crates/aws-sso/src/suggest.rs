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
    strsim::osa_distance(a, b)
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
