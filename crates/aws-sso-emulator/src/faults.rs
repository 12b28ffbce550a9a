//! Injected trouble for portal requests: a per-token rate limit answered with 429s, the first N
//! requests failing with 500, and a seeded, repeatable random failure rate.

use std::collections::HashMap;

use crate::wire::{PortalError, PortalErrorKind};

/// The fault settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct FaultSettings {
    /// Portal requests per second per access token; `None` is unlimited.
    pub rate_limit: Option<u32>,
    pub fail_first: u32,
    /// Probability in `[0, 1]` that a portal request fails with a 500.
    pub fail_rate: f64,
    pub seed: u64,
}

/// A token bucket: holds up to `rate` requests and refills `rate` per second.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    updated_at: u64,
}

/// The running state of the faults.
#[derive(Debug)]
pub struct Faults {
    settings: FaultSettings,
    buckets: HashMap<String, Bucket>,
    failed_so_far: u32,
    random: SplitMix64,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Faults {
        let random = SplitMix64(settings.seed);
        Faults { settings, buckets: HashMap::new(), failed_so_far: 0, random }
    }

    /// Decides whether the portal request made with `access_token` at `now` (epoch ms) fails,
    /// and how.
    pub fn check(&mut self, access_token: &str, now: u64) -> Result<(), PortalError> {
        if let Some(rate) = self.settings.rate_limit {
            let capacity = f64::from(rate);
            let bucket = self
                .buckets
                .entry(access_token.to_owned())
                .or_insert(Bucket { tokens: capacity, updated_at: now });
            let elapsed_secs = now.saturating_sub(bucket.updated_at) as f64 / 1000.0;
            bucket.tokens = (bucket.tokens + elapsed_secs * capacity).min(capacity);
            bucket.updated_at = now;
            if bucket.tokens < 1.0 {
                return Err(PortalError::new(PortalErrorKind::TooManyRequests, "Rate exceeded"));
            }
            bucket.tokens -= 1.0;
        }
        if self.failed_so_far < self.settings.fail_first {
            self.failed_so_far += 1;
            return Err(internal_error());
        }
        if self.settings.fail_rate > 0.0 && self.random.next_unit() < self.settings.fail_rate {
            return Err(internal_error());
        }
        Ok(())
    }
}

fn internal_error() -> PortalError {
    PortalError::new(PortalErrorKind::InternalServer, "An internal error occurred; try again")
}

/// A small, fast, seedable generator (Steele, Lea, Flood 2014): the same seed gives the same
/// failures on every run.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(faults: &mut Faults, token: &str, times: &[u64]) -> Vec<Option<PortalErrorKind>> {
        times.iter().map(|now| faults.check(token, *now).err().map(|e| e.kind)).collect()
    }

    #[test]
    fn rate_limit_allows_a_burst_then_refills_each_second() {
        let mut faults =
            Faults::new(FaultSettings { rate_limit: Some(2), ..FaultSettings::default() });
        let throttled = Some(PortalErrorKind::TooManyRequests);
        assert_eq!(kinds(&mut faults, "a", &[0, 0, 0]), [None, None, throttled]);
        assert_eq!(kinds(&mut faults, "b", &[0]), [None], "each token has its own bucket");
        assert_eq!(kinds(&mut faults, "a", &[500, 500]), [None, throttled]);
        assert_eq!(kinds(&mut faults, "a", &[1500, 1500, 1500]), [None, None, throttled]);
    }

    #[test]
    fn the_first_requests_fail_with_500() {
        let mut faults = Faults::new(FaultSettings { fail_first: 2, ..FaultSettings::default() });
        let failed = Some(PortalErrorKind::InternalServer);
        assert_eq!(kinds(&mut faults, "a", &[0, 0, 0, 0]), [failed, failed, None, None]);
    }

    #[test]
    fn fail_rate_is_repeatable_for_a_seed_and_near_the_rate() {
        let settings = FaultSettings { fail_rate: 0.3, seed: 42, ..FaultSettings::default() };
        let run = |settings: &FaultSettings| {
            let mut faults = Faults::new(settings.clone());
            kinds(&mut faults, "a", &[0; 1000])
        };
        let first = run(&settings);
        assert_eq!(first, run(&settings));
        let failures = first.iter().filter(|k| k.is_some()).count();
        assert!((250..350).contains(&failures), "{failures} failures out of 1000");
        assert_ne!(first, run(&FaultSettings { seed: 43, ..settings }));
    }
}
