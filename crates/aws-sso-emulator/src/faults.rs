//! Injected trouble for portal requests: a per-token rate limit, one request in N throttled,
//! the first N and bursts of requests failing with 500, a seeded random failure rate, requests
//! that hang past a client's timeout, access tokens that stop working after N requests, and
//! answers whose body never ends; and trouble for OIDC CreateToken with the refresh_token grant
//! (a 500, a 429, a hang, a body that is not JSON), none of which uses up the refresh token.
//!
//! Every schedule except `--fail-rate` and the rate limit counts portal requests, numbered from
//! 1 in the order the emulator receives them, so the same requests fail on every run.
//! `POST /_emulator/clear-faults` turns every fault off, so a test can show that the next run,
//! with the service healthy again, succeeds.

use std::collections::HashMap;
use std::time::Duration;

use crate::wire::{ApiResponse, OidcError, OidcErrorKind, PortalError, PortalErrorKind};

/// What every OIDC CreateToken with the refresh_token grant gets (`--refresh-fault`), instead of
/// a new token: trouble a client must report as passing, never as a lost login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RefreshFault {
    /// 500 InternalServerException.
    #[value(name = "500")]
    ServerError,
    /// 429 ThrottlingException, without Retry-After.
    #[value(name = "429")]
    Throttled,
    /// Held back for --hang-ms, then answered 500, so a client's timeout fires first.
    Hang,
    /// 200 with a body that is not JSON, as a captive portal or a broken proxy answers.
    Garbage,
}

impl RefreshFault {
    /// The answer that replaces the service's, and how long to hold it back.
    pub fn answer(self, hang: Duration) -> (ApiResponse, Option<Duration>) {
        let server_error = || {
            OidcError::new(OidcErrorKind::InternalServer, "An internal error occurred; try again")
                .into_response()
        };
        match self {
            RefreshFault::ServerError => (server_error(), None),
            RefreshFault::Hang => (server_error(), Some(hang)),
            RefreshFault::Throttled => {
                let mut response =
                    ApiResponse::json(429, &serde_json::json!({"message": "Rate exceeded"}));
                response.headers.push(("x-amzn-ErrorType", "ThrottlingException".to_owned()));
                response.error_type = Some("ThrottlingException");
                (response, None)
            }
            RefreshFault::Garbage => {
                let mut response = ApiResponse::html(
                    200,
                    "<html><body>Please sign in to the network</body></html>\n".to_owned(),
                );
                response.headers = vec![("content-type", "application/json".to_owned())];
                (response, None)
            }
        }
    }
}

/// What STS requests get instead of the service's answer (`--sts-fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StsFault {
    /// 500 InternalFailure.
    #[value(name = "500")]
    ServerError,
    /// 400 Throttling ("Rate exceeded"), which clients retry with backoff.
    Throttle,
    /// Held back for --hang-ms, then answered by the service, so a client's timeout fires first.
    Hang,
}

/// Bursts of `size` consecutive failures, one at the end of every `every` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailBurst {
    pub size: u32,
    pub every: u32,
}

impl FailBurst {
    /// Requests `every - size + 1` to `every` of each window fail, so the first requests of a
    /// listing succeed and the failures land in its middle.
    fn hits(self, request: u64) -> bool {
        let every = u64::from(self.every);
        (request - 1) % every >= every - u64::from(self.size)
    }
}

/// The fault settings from the command line. `None` and 0 turn a fault off.
#[derive(Debug, Clone, Default)]
pub struct FaultSettings {
    /// Portal requests per second per access token; `None` is unlimited.
    pub rate_limit: Option<u32>,
    /// Every Nth portal request gets a 429, whatever the rate.
    pub throttle_every: Option<u32>,
    pub fail_first: u32,
    pub fail_burst: Option<FailBurst>,
    /// Probability in `[0, 1]` that a portal request fails with a 500.
    pub fail_rate: f64,
    pub seed: u64,
    pub hang_first: u32,
    pub hang_every: Option<u32>,
    /// How long a hung request waits before it is answered.
    pub hang: Duration,
    /// Portal requests an access token may make before it is answered as expired.
    pub token_expires_after_requests: Option<u32>,
    /// The first N portal requests are answered 200 with a body that never ends.
    pub endless_first: u32,
    /// What every refresh (OIDC CreateToken with the refresh_token grant) gets instead of a token.
    pub refresh_fault: Option<RefreshFault>,
    /// What STS requests get instead of the service's answer.
    pub sts_fault: Option<StsFault>,
    /// Only the first N STS requests get `sts_fault`; 0: every one.
    pub sts_fault_first: u32,
}

/// What happens to one portal request: an error instead of the service's answer, and a wait
/// before whichever answer is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub error: Option<PortalError>,
    pub hang: Option<Duration>,
    /// Answer with a body that never ends, whatever the service would say.
    pub endless: bool,
}

/// A token bucket: holds up to `rate` requests and refills continuously at `rate` per second.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    updated_at: u64,
}

/// The running state of the faults.
#[derive(Debug)]
pub struct Faults {
    settings: FaultSettings,
    /// Portal requests received so far; the number of the current one while it is judged.
    requests: u64,
    buckets: HashMap<String, Bucket>,
    /// Portal requests made with each access token, for `token_expires_after_requests`.
    token_uses: HashMap<String, u64>,
    failed_first: u32,
    random: SplitMix64,
    /// STS requests received so far.
    sts_requests: u64,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Faults {
        let random = SplitMix64(settings.seed);
        Faults {
            settings,
            requests: 0,
            buckets: HashMap::new(),
            token_uses: HashMap::new(),
            failed_first: 0,
            random,
            sts_requests: 0,
        }
    }

    /// The fault, if any, that the next refresh (CreateToken with the refresh_token grant) gets.
    pub fn refresh_fault(&self) -> Option<RefreshFault> {
        self.settings.refresh_fault
    }

    /// Counts the next STS request and tells the fault it gets, if any.
    pub fn check_sts(&mut self) -> Option<StsFault> {
        self.sts_requests += 1;
        let first = u64::from(self.settings.sts_fault_first);
        self.settings.sts_fault.filter(|_| first == 0 || self.sts_requests <= first)
    }

    /// How long a hung request waits.
    pub fn hang(&self) -> Duration {
        self.settings.hang
    }

    /// Turns every fault off (`POST /_emulator/clear-faults`): from now on the service is healthy.
    pub fn clear(&mut self) {
        self.settings = FaultSettings { hang: self.settings.hang, ..FaultSettings::default() };
    }

    /// Judges the next portal request, made with `access_token` at `now` (epoch ms).
    pub fn check(&mut self, access_token: &str, now: u64) -> Verdict {
        self.requests += 1;
        let request = self.requests;
        let hangs = request <= u64::from(self.settings.hang_first)
            || every(self.settings.hang_every, request);
        Verdict {
            error: self.error(access_token, request, now).err(),
            hang: hangs.then_some(self.settings.hang),
            endless: request <= u64::from(self.settings.endless_first),
        }
    }

    fn error(&mut self, access_token: &str, request: u64, now: u64) -> Result<(), PortalError> {
        // The service checks the token before it counts the request against any limit.
        if let Some(allowed) = self.settings.token_expires_after_requests {
            let used = self.token_uses.entry(access_token.to_owned()).or_insert(0);
            *used += 1;
            if *used > u64::from(allowed) {
                return Err(PortalError::unauthorized());
            }
        }
        if every(self.settings.throttle_every, request) {
            return Err(throttled());
        }
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
                return Err(throttled());
            }
            bucket.tokens -= 1.0;
        }
        if self.failed_first < self.settings.fail_first {
            self.failed_first += 1;
            return Err(internal_error());
        }
        if self.settings.fail_burst.is_some_and(|burst| burst.hits(request)) {
            return Err(internal_error());
        }
        if self.settings.fail_rate > 0.0 && self.random.next_unit() < self.settings.fail_rate {
            return Err(internal_error());
        }
        Ok(())
    }
}

/// Whether request number `request` (from 1) is one of every `n`th.
fn every(n: Option<u32>, request: u64) -> bool {
    n.is_some_and(|n| n > 0 && request.is_multiple_of(u64::from(n)))
}

fn throttled() -> PortalError {
    PortalError::new(PortalErrorKind::TooManyRequests, "Rate exceeded")
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

    const THROTTLED: Option<PortalErrorKind> = Some(PortalErrorKind::TooManyRequests);
    const FAILED: Option<PortalErrorKind> = Some(PortalErrorKind::InternalServer);
    const EXPIRED: Option<PortalErrorKind> = Some(PortalErrorKind::Unauthorized);

    fn kinds(faults: &mut Faults, token: &str, times: &[u64]) -> Vec<Option<PortalErrorKind>> {
        times.iter().map(|now| faults.check(token, *now).error.map(|e| e.kind)).collect()
    }

    /// The numbers (from 1) of the first `count` requests that got `kind`, all made at time 0.
    fn hit(settings: FaultSettings, count: usize, kind: Option<PortalErrorKind>) -> Vec<usize> {
        let mut faults = Faults::new(settings);
        let kinds = kinds(&mut faults, "a", &vec![0; count]);
        (1..=count).filter(|n| kinds[n - 1] == kind).collect()
    }

    #[test]
    fn rate_limit_allows_a_burst_then_refills_each_second() {
        let mut faults =
            Faults::new(FaultSettings { rate_limit: Some(2), ..FaultSettings::default() });
        assert_eq!(kinds(&mut faults, "a", &[0, 0, 0]), [None, None, THROTTLED]);
        assert_eq!(kinds(&mut faults, "b", &[0]), [None], "each token has its own bucket");
        assert_eq!(kinds(&mut faults, "a", &[500, 500]), [None, THROTTLED]);
        assert_eq!(kinds(&mut faults, "a", &[1500, 1500, 1500]), [None, None, THROTTLED]);
    }

    #[test]
    fn rate_limit_of_20_holds_a_steady_client_to_20_per_second() {
        // A client asking every 10 ms (100/s) for 10 s: 20 from the full bucket, then 20/s.
        let mut faults =
            Faults::new(FaultSettings { rate_limit: Some(20), ..FaultSettings::default() });
        let times: Vec<u64> = (0..1000).map(|i| i * 10).collect();
        let served = kinds(&mut faults, "a", &times).iter().filter(|k| k.is_none()).count();
        assert!((218..=221).contains(&served), "{served} served in 10 s");
        // Refill is continuous: one more request about 50 ms after the bucket ran dry.
        let mut faults =
            Faults::new(FaultSettings { rate_limit: Some(20), ..FaultSettings::default() });
        assert!(kinds(&mut faults, "a", &[0; 20]).iter().all(Option::is_none));
        assert_eq!(
            kinds(&mut faults, "a", &[0, 49, 51, 51]),
            [THROTTLED, THROTTLED, None, THROTTLED]
        );
    }

    #[test]
    fn the_first_requests_fail_with_500() {
        let mut faults = Faults::new(FaultSettings { fail_first: 2, ..FaultSettings::default() });
        assert_eq!(kinds(&mut faults, "a", &[0, 0, 0, 0]), [FAILED, FAILED, None, None]);
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

    #[test]
    fn throttle_every_3_is_one_request_in_three_across_tokens() {
        let settings = FaultSettings { throttle_every: Some(3), ..FaultSettings::default() };
        assert_eq!(hit(settings.clone(), 10, THROTTLED), [3, 6, 9]);
        let mut faults = Faults::new(settings);
        assert_eq!(kinds(&mut faults, "a", &[0, 0]), [None, None]);
        assert_eq!(kinds(&mut faults, "b", &[0]), [THROTTLED], "counted across tokens");
    }

    #[test]
    fn throttle_every_does_not_use_up_the_rate_limit() {
        let mut faults = Faults::new(FaultSettings {
            throttle_every: Some(2),
            rate_limit: Some(2),
            ..FaultSettings::default()
        });
        assert_eq!(
            kinds(&mut faults, "a", &[0, 0, 0, 0, 0]),
            [None, THROTTLED, None, THROTTLED, THROTTLED]
        );
    }

    #[test]
    fn fail_bursts_come_at_the_end_of_every_window() {
        let settings = FaultSettings {
            fail_burst: Some(FailBurst { size: 3, every: 10 }),
            ..FaultSettings::default()
        };
        assert_eq!(hit(settings, 30, FAILED), [8, 9, 10, 18, 19, 20, 28, 29, 30]);
    }

    #[test]
    fn hang_first_and_hang_every_pick_the_requests_that_wait() {
        let settings = FaultSettings {
            hang_first: 2,
            hang_every: Some(4),
            hang: Duration::from_millis(1234),
            ..FaultSettings::default()
        };
        let mut faults = Faults::new(settings);
        let hangs: Vec<_> = (0..9).map(|_| faults.check("a", 0).hang).collect();
        let wait = Some(Duration::from_millis(1234));
        assert_eq!(hangs, [wait, wait, None, wait, None, None, None, wait, None]);
        let mut quiet = Faults::new(FaultSettings::default());
        assert_eq!(quiet.check("a", 0), Verdict { error: None, hang: None, endless: false });
    }

    #[test]
    fn a_token_expires_after_its_requests_and_a_new_token_starts_afresh() {
        let mut faults = Faults::new(FaultSettings {
            token_expires_after_requests: Some(3),
            ..FaultSettings::default()
        });
        assert_eq!(kinds(&mut faults, "old", &[0; 5]), [None, None, None, EXPIRED, EXPIRED]);
        assert_eq!(kinds(&mut faults, "refreshed", &[0; 4]), [None, None, None, EXPIRED]);
        let answer = faults.check("old", 0).error.map(PortalError::into_response);
        assert_eq!(answer.map(|a| a.status), Some(401));
    }

    #[test]
    fn an_expired_token_is_refused_before_it_is_throttled() {
        let mut faults = Faults::new(FaultSettings {
            token_expires_after_requests: Some(1),
            throttle_every: Some(2),
            ..FaultSettings::default()
        });
        assert_eq!(kinds(&mut faults, "a", &[0, 0, 0]), [None, EXPIRED, EXPIRED]);
    }

    #[test]
    fn endless_first_picks_the_first_requests() {
        let mut faults =
            Faults::new(FaultSettings { endless_first: 2, ..FaultSettings::default() });
        let endless: Vec<_> = (0..4).map(|_| faults.check("a", 0).endless).collect();
        assert_eq!(endless, [true, true, false, false]);
    }

    #[test]
    fn each_refresh_fault_answers_as_named_and_clearing_turns_every_fault_off() {
        let hang = Duration::from_millis(70);
        let answer = |fault: RefreshFault| {
            let (response, wait) = fault.answer(hang);
            (response.status, response.header("x-amzn-ErrorType").map(str::to_owned), wait)
        };
        let (status, error_type, wait) = answer(RefreshFault::ServerError);
        assert_eq!((status, wait), (500, None));
        assert!(error_type.unwrap().starts_with("InternalServerException:"));
        assert_eq!(answer(RefreshFault::Hang).0, 500);
        assert_eq!(answer(RefreshFault::Hang).2, Some(hang));
        assert_eq!(answer(RefreshFault::Throttled).0, 429);
        assert_eq!(answer(RefreshFault::Throttled).1.as_deref(), Some("ThrottlingException"));
        let (garbage, _) = RefreshFault::Garbage.answer(hang);
        assert_eq!(garbage.status, 200);
        assert!(serde_json::from_slice::<serde_json::Value>(&garbage.body).is_err());

        let mut faults = Faults::new(FaultSettings {
            refresh_fault: Some(RefreshFault::Garbage),
            fail_first: 5,
            hang,
            ..FaultSettings::default()
        });
        assert_eq!(faults.refresh_fault(), Some(RefreshFault::Garbage));
        faults.clear();
        assert_eq!(faults.refresh_fault(), None);
        assert_eq!(faults.check("a", 0), Verdict { error: None, hang: None, endless: false });
        assert_eq!(faults.hang(), hang, "the wait stays as set, for faults set again later");
    }

    #[test]
    fn an_sts_fault_hits_every_sts_request_or_the_first_n_until_cleared() {
        let mut every = Faults::new(FaultSettings {
            sts_fault: Some(StsFault::Throttle),
            ..FaultSettings::default()
        });
        let faults: Vec<_> = (0..3).map(|_| every.check_sts()).collect();
        assert_eq!(faults, [Some(StsFault::Throttle); 3]);
        every.clear();
        assert_eq!(every.check_sts(), None);
        let mut first = Faults::new(FaultSettings {
            sts_fault: Some(StsFault::Hang),
            sts_fault_first: 2,
            ..FaultSettings::default()
        });
        let faults: Vec<_> = (0..4).map(|_| first.check_sts()).collect();
        assert_eq!(faults, [Some(StsFault::Hang), Some(StsFault::Hang), None, None]);
        // Portal requests do not count towards the STS schedule, nor STS ones towards theirs.
        let mut mixed = Faults::new(FaultSettings {
            sts_fault: Some(StsFault::ServerError),
            sts_fault_first: 1,
            fail_first: 1,
            ..FaultSettings::default()
        });
        assert_eq!(mixed.check("a", 0).error.map(|e| e.kind), FAILED);
        assert_eq!(mixed.check_sts(), Some(StsFault::ServerError));
    }
}
