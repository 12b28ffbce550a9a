//! Lists of names in messages, kept short: an error that names the profiles, sessions, accounts
//! or roles the user could have meant shows at most [`MAX_LISTED`] of them and counts the rest,
//! and a name nothing knows gets the few closest names by edit distance ("did you mean").
//!
//! Every message that lists names goes through [`bounded`], so a config with 1,500 profiles
//! gives a message of one line, not a page.

/// The most names one message lists; the rest are counted (`and 1490 more`).
pub const MAX_LISTED: usize = 10;

/// The most names a "did you mean" suggests.
pub const MAX_CLOSEST: usize = 3;

/// `a, b, c`, or the first [`MAX_LISTED`] then `and N more`; `none` for an empty list.
///
/// ```
/// use aws_sso_core::names::bounded;
///
/// assert_eq!(bounded(&["a", "b"]), "a, b");
/// let many: Vec<String> = (1..=12).map(|i| format!("p{i}")).collect();
/// assert_eq!(bounded(&many), "p1, p2, p3, p4, p5, p6, p7, p8, p9, p10 and 2 more");
/// assert_eq!(bounded::<&str>(&[]), "none");
/// ```
pub fn bounded<S: AsRef<str>>(names: &[S]) -> String {
    bounded_with(names, MAX_LISTED)
}

/// [`bounded`] with another bound (at least one name is shown).
pub fn bounded_with<S: AsRef<str>>(names: &[S], max: usize) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let max = max.max(1);
    let shown: Vec<&str> = names.iter().take(max).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if names.len() > max {
        text.push_str(&format!(" and {} more", names.len() - max));
    }
    text
}

/// The names of `candidates` nearest `query` by edit distance, ignoring case, that are close
/// enough to be a likely typo (at most a third of the query's length away, at least 2), nearest
/// first, at most [`MAX_CLOSEST`]. A candidate that starts with the query, or that the query
/// starts with, counts as near too.
///
/// ```
/// use aws_sso_core::names::closest;
///
/// let names = ["acme-prod.ReadOnly", "acme-prod.Admin", "acme-dev.ReadOnly", "other"];
/// assert_eq!(closest("acme-prd.ReadOnly", names), ["acme-prod.ReadOnly", "acme-dev.ReadOnly"]);
/// assert!(closest("zzz", names).is_empty());
/// ```
pub fn closest<'a>(query: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let lower = query.to_lowercase();
    let bound = (lower.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|name| {
            let other = name.to_lowercase();
            let distance = strsim::levenshtein(&lower, &other);
            let prefix = !lower.is_empty()
                && other != lower
                && (other.starts_with(&lower) || lower.starts_with(&other))
                && other.chars().count().abs_diff(lower.chars().count()) <= bound * 2;
            (distance <= bound || prefix).then_some((distance, name))
        })
        .collect();
    near.sort_by(|(d1, a), (d2, b)| d1.cmp(d2).then_with(|| a.cmp(b)));
    near.dedup_by(|(_, a), (_, b)| a == b);
    near.into_iter().take(MAX_CLOSEST).map(|(_, name)| name).collect()
}

/// ` Did you mean a or b?`, with a leading space, or nothing when no name is close.
pub fn did_you_mean(closest: &[&str]) -> String {
    match closest {
        [] => String::new(),
        [one] => format!(" Did you mean {one}?"),
        [init @ .., last] => format!(" Did you mean {} or {last}?", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_and_counted() {
        let names: Vec<String> = (0..1500).map(|i| format!("profile-{i:04}")).collect();
        let text = bounded(&names);
        assert!(text.ends_with(" and 1490 more"), "{text}");
        assert_eq!(text.matches(", ").count(), MAX_LISTED - 1);
        assert_eq!(bounded(&names[..10]).matches(", ").count(), 9);
        assert!(!bounded(&names[..10]).contains("more"));
        assert_eq!(bounded_with(&names, 0), "profile-0000 and 1499 more");
    }

    #[test]
    fn the_closest_names_are_likely_typos_only() {
        let names = ["account_cache_ttl", "concurrency", "warn_before", "rate_limit"];
        assert_eq!(closest("acount_cache_ttl", names), ["account_cache_ttl"]);
        assert_eq!(closest("Concurency", names), ["concurrency"]);
        assert!(closest("browserr_command_line", names).is_empty());
        assert_eq!(closest("warn_befor", names), ["warn_before"]);
        assert_eq!(closest("concurrency_", names), ["concurrency"]);
        let many: Vec<String> = (0..100).map(|i| format!("acme-{i}")).collect();
        assert_eq!(closest("acme-1", many.iter().map(String::as_str)).len(), MAX_CLOSEST);
    }

    #[test]
    fn did_you_mean_reads_as_a_sentence() {
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["a"]), " Did you mean a?");
        assert_eq!(did_you_mean(&["a", "b", "c"]), " Did you mean a, b or c?");
    }
}
