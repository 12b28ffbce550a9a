//! The client-side rate limiter every portal request of one run waits on (docs/ARCHITECTURE.md §5).
//!
//! The portal allows about 20 requests a second per user. Requests are spaced evenly (the
//! generic cell rate algorithm: each request reserves the next free slot), with at most a small
//! burst, so a listing runs right at the limit without tripping the service's own limiter.
//! Hand-written rather than a rate-limit crate's fixed quota: the rate below adapts to 429s.
//!
//! When the service throttles anyway (its limit is lower than configured, or another tool of the
//! same user is spending it), the rate adapts: each 429 cuts it to 70 % (at most once per half
//! second, since the requests already in flight meet the same limit), and each success wins
//! back 1 % of the configured rate, never more than configured. Retrying at the full rate would
//! spend the retries of every account and lose some of them.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The portal's documented per-user rate, and our default.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 20.0;

/// What one 429 leaves of the rate.
const CUT: f64 = 0.7;
/// What one success wins back, as a share of the configured rate.
const REGAIN: f64 = 0.01;
/// The rate is never cut below this.
const FLOOR_PER_SECOND: f64 = 1.0;
/// At most one cut in this long: one 429 is news, the others in flight at the time are not.
/// (Measured against a service allowing 8/s with us set to 20/s: half a second lets the rate
/// reach the service's limit within about a second, and meets a quarter of the 429s that
/// spacing at 20/s all along does.)
const CUT_AT_MOST_EVERY: Duration = Duration::from_millis(500);

/// Spaces requests evenly at a number of requests per second. Share one per run (in an `Arc`).
#[derive(Debug)]
pub struct RateLimiter {
    /// The configured rate; `None` when unlimited.
    configured: Option<f64>,
    /// How many requests may go at once after a quiet spell.
    burst: u32,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The rate in force: the configured one, or less after 429s.
    rate: f64,
    /// The slot of the next request; `None` before the first one.
    next_slot: Option<Instant>,
    /// When the rate was last cut.
    last_cut: Option<Instant>,
}

impl RateLimiter {
    /// A limiter at `requests_per_second`; `None`, zero, a negative or a non-finite rate mean
    /// unlimited. No burst: every request waits for its own slot.
    pub fn new(requests_per_second: Option<f64>) -> Self {
        let configured = requests_per_second.filter(|rate| rate.is_finite() && *rate > 0.0);
        let state = State { rate: configured.unwrap_or(0.0), next_slot: None, last_cut: None };
        Self { configured, burst: 1, state: Mutex::new(state) }
    }

    /// A limiter that never waits.
    pub fn unlimited() -> Self {
        Self::new(None)
    }

    /// Lets up to `burst` requests go at once after a quiet spell (1 = strictly even spacing).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// The configured rate, `None` when unlimited.
    pub fn requests_per_second(&self) -> Option<f64> {
        self.configured
    }

    /// The rate in force now: the configured one, or less after 429s; `None` when unlimited.
    pub fn current_rate(&self) -> Option<f64> {
        self.configured.map(|_| self.state().rate)
    }

    pub fn is_unlimited(&self) -> bool {
        self.configured.is_none()
    }

    /// Waits for this request's slot. Callers are served in the order they call, each slot one
    /// interval after the previous one; a limiter left idle does not save up more than its burst.
    pub async fn wait(&self) {
        if self.configured.is_none() {
            return;
        }
        let now = Instant::now();
        let start = {
            let mut state = self.state();
            let interval = Duration::from_secs_f64(1.0 / state.rate);
            let tolerance = interval.saturating_mul(self.burst - 1);
            let slot = state.next_slot.map_or(now, |slot| slot.max(now));
            state.next_slot = Some(slot + interval);
            slot.checked_sub(tolerance).unwrap_or(slot).max(now)
        };
        if start > now {
            tokio::time::sleep_until(start).await;
        }
    }

    /// The service throttled a request: slow down, unless that was done very recently.
    pub fn throttled(&self) {
        let Some(configured) = self.configured else { return };
        let now = Instant::now();
        let mut state = self.state();
        if state.last_cut.is_some_and(|at| now.duration_since(at) < CUT_AT_MOST_EVERY) {
            return;
        }
        state.rate = (state.rate * CUT).max(FLOOR_PER_SECOND.min(configured));
        state.last_cut = Some(now);
        tracing::debug!(rate = state.rate, "throttled: slowing down");
    }

    /// A request went through: win back a little of the configured rate.
    pub fn succeeded(&self) {
        let Some(configured) = self.configured else { return };
        let mut state = self.state();
        state.rate = (state.rate + configured * REGAIN).min(configured);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Never held across an await, so a std mutex is right; a poisoned one only means another
        // task panicked between two lines that cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for RateLimiter {
    /// The portal's rate, [`DEFAULT_REQUESTS_PER_SECOND`].
    fn default() -> Self {
        Self::new(Some(DEFAULT_REQUESTS_PER_SECOND))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// When each of `count` concurrent requests got through, relative to the start.
    async fn release_times(limiter: Arc<RateLimiter>, count: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..count {
            let limiter = Arc::clone(&limiter);
            tasks.spawn(async move {
                limiter.wait().await;
                Instant::now() - start
            });
        }
        let mut times = tasks.join_all().await;
        times.sort();
        times
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn spaces_requests_evenly_at_the_rate() {
        let times = release_times(Arc::new(RateLimiter::new(Some(20.0))), 41).await;
        for (i, t) in times.iter().enumerate() {
            assert_eq!(*t, Duration::from_millis(50) * i as u32, "request {i}");
        }
        // 41 requests at 20/s: the last one goes two seconds after the first.
        assert_eq!(times.last(), Some(&Duration::from_secs(2)));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_idle_limiter_does_not_save_up_requests() {
        let limiter = Arc::new(RateLimiter::new(Some(10.0)));
        limiter.wait().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        // After five quiet seconds, the next three still go 100 ms apart, not all at once.
        let times = release_times(limiter, 3).await;
        assert_eq!(times, [Duration::ZERO, Duration::from_millis(100), Duration::from_millis(200)]);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_burst_goes_at_once_then_the_rate_holds() {
        let limiter = Arc::new(RateLimiter::new(Some(10.0)).with_burst(3));
        let times = release_times(limiter, 5).await;
        assert_eq!(
            times,
            [
                Duration::ZERO,
                Duration::ZERO,
                Duration::ZERO,
                Duration::from_millis(100),
                Duration::from_millis(200)
            ]
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn unlimited_never_waits() {
        for limiter in
            [RateLimiter::new(None), RateLimiter::new(Some(0.0)), RateLimiter::unlimited()]
        {
            assert!(limiter.is_unlimited());
            let times = release_times(Arc::new(limiter), 100).await;
            assert!(times.iter().all(|t| t.is_zero()), "{times:?}");
        }
        assert!(RateLimiter::new(Some(-3.0)).is_unlimited());
        assert!(RateLimiter::new(Some(f64::NAN)).is_unlimited());
        assert_eq!(RateLimiter::default().requests_per_second(), Some(20.0));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_429_slows_down_at_most_twice_a_second_and_successes_win_the_rate_back() {
        let limiter = RateLimiter::new(Some(20.0));
        limiter.throttled();
        assert_eq!(limiter.current_rate(), Some(14.0));
        // The other requests in flight met the same limit: no further cut for half a second.
        limiter.throttled();
        assert_eq!(limiter.current_rate(), Some(14.0));
        tokio::time::sleep(CUT_AT_MOST_EVERY).await;
        limiter.throttled();
        let rate = limiter.current_rate().expect("limited");
        assert!((rate - 9.8).abs() < 1e-9, "{rate}");
        // The requests are spaced at the rate in force.
        let times = release_times(Arc::new(limiter), 2).await;
        // (The paused clock sleeps in whole milliseconds.)
        let interval = Duration::from_secs_f64(1.0 / 9.8);
        assert!(
            times[1] >= interval && times[1] < interval + Duration::from_millis(2),
            "{times:?}"
        );
        // Each success wins back 1 % of the configured rate (0.2/s), never beyond it.
        let limiter = RateLimiter::new(Some(20.0));
        limiter.throttled();
        for _ in 0..10 {
            limiter.succeeded();
        }
        let rate = limiter.current_rate().expect("limited");
        assert!((rate - 16.0).abs() < 1e-9, "{rate}");
        for _ in 0..100 {
            limiter.succeeded();
        }
        assert_eq!(limiter.current_rate(), Some(20.0));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn the_rate_is_never_cut_below_one_a_second_and_unlimited_stays_unlimited() {
        let limiter = RateLimiter::new(Some(20.0));
        for _ in 0..20 {
            limiter.throttled();
            tokio::time::sleep(CUT_AT_MOST_EVERY).await;
        }
        assert_eq!(limiter.current_rate(), Some(1.0));
        let slow = RateLimiter::new(Some(0.5));
        slow.throttled();
        assert_eq!(slow.current_rate(), Some(0.5), "a rate below the floor is not raised");
        let unlimited = RateLimiter::unlimited();
        unlimited.throttled();
        assert_eq!(unlimited.current_rate(), None);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_listing_of_a_thousand_requests_takes_the_bound() {
        let start = Instant::now();
        let limiter = Arc::new(RateLimiter::new(Some(20.0)));
        let times = release_times(limiter, 1000).await;
        // (n - 1) intervals: within a millisecond of 49.95 s, never faster.
        assert_eq!(times.last(), Some(&Duration::from_millis(49_950)));
        assert!(Instant::now() - start >= Duration::from_millis(49_950));
    }
}
