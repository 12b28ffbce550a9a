//! Timestamps as the AWS caches write and read them.

use jiff::Timestamp;

/// `2024-05-01T20:00:00Z`: UTC, whole seconds, literal `Z`, as the AWS CLI v2 writes
/// `expiresAt`, `registrationExpiresAt` and the role-credential `Expiration`.
pub fn format_cli(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads a timestamp as leniently as the SDKs do: RFC 3339 with or without fraction, `Z` or an
/// offset, and the `2002-10-18T03:52:38UTC` form seen in AWS CLI tests.
pub fn parse_lenient(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let without_utc = text.strip_suffix("UTC").or_else(|| text.strip_suffix("utc"))?;
    format!("{}Z", without_utc.trim_end()).parse::<Timestamp>().ok()
}

/// Epoch milliseconds, as the portal sends `expiration`.
pub fn from_millis(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_cli() {
        let ts = from_millis(1_222_173_800_000).expect("valid");
        assert_eq!(format_cli(ts), "2008-09-23T12:43:20Z");
    }

    #[test]
    fn truncates_fractions() {
        let ts: Timestamp = "2024-05-01T20:00:00.987Z".parse().expect("valid");
        assert_eq!(format_cli(ts), "2024-05-01T20:00:00Z");
    }

    #[test]
    fn reads_the_forms_other_tools_write() {
        let want: Timestamp = "2021-12-25T21:30:00Z".parse().expect("valid");
        for text in [
            "2021-12-25T21:30:00Z",
            "2021-12-25T21:30:00.000Z",
            "2021-12-25T21:30:00+00:00",
            "2021-12-25T22:30:00+01:00",
            "2021-12-25T21:30:00UTC",
        ] {
            assert_eq!(parse_lenient(text), Some(want), "{text}");
        }
        assert_eq!(parse_lenient("yesterday"), None);
    }
}

/// A duration as people read it in a table: `7h 59m`, `12m`, `45s`, `3d 4h`.
pub fn format_remaining(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod remaining_tests {
    use super::format_remaining;
    use jiff::SignedDuration;

    #[test]
    fn reads_like_a_person_would_say_it() {
        assert_eq!(format_remaining(SignedDuration::from_secs(45)), "45s");
        assert_eq!(format_remaining(SignedDuration::from_secs(12 * 60 + 5)), "12m");
        assert_eq!(format_remaining(SignedDuration::from_secs(7 * 3600 + 59 * 60)), "7h 59m");
        assert_eq!(format_remaining(SignedDuration::from_secs(3 * 86_400 + 4 * 3600)), "3d 4h");
        assert_eq!(format_remaining(SignedDuration::from_secs(-5)), "0s");
    }
}
