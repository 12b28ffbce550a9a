//! The client-side rate limiter every portal request of one run waits on (DESIGN.md §5).
//!
//! The portal allows about 20 requests a second per user. Requests are spaced evenly (the
//! generic cell rate algorithm: each request reserves the next free slot), with at most a small
//! burst, so a listing runs right at the limit without tripping the service's own limiter.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The portal's documented per-user rate, and our default.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 20.0;

/// Spaces requests evenly at a number of requests per second. Share one per run (in an `Arc`).
#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two requests; `None` when unlimited.
    interval: Option<Duration>,
    /// How early a request may go ahead of its slot: `(burst - 1) × interval`.
    tolerance: Duration,
    /// The slot of the next request; `None` before the first one.
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter at `requests_per_second`; `None`, zero, a negative or a non-finite rate mean
    /// unlimited. No burst: every request waits for its own slot.
    pub fn new(requests_per_second: Option<f64>) -> Self {
        let interval = requests_per_second
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .map(|rate| Duration::from_secs_f64(1.0 / rate));
        Self { interval, tolerance: Duration::ZERO, next_slot: Mutex::new(None) }
    }

    /// A limiter that never waits.
    pub fn unlimited() -> Self {
        Self::new(None)
    }

    /// Lets up to `burst` requests go at once after a quiet spell (1 = strictly even spacing).
    pub fn with_burst(mut self, burst: u32) -> Self {
        if let Some(interval) = self.interval {
            self.tolerance = interval.saturating_mul(burst.max(1) - 1);
        }
        self
    }

    /// The rate, `None` when unlimited.
    pub fn requests_per_second(&self) -> Option<f64> {
        self.interval.map(|i| 1.0 / i.as_secs_f64())
    }

    pub fn is_unlimited(&self) -> bool {
        self.interval.is_none()
    }

    /// Waits for this request's slot. Callers are served in the order they call, each slot one
    /// interval after the previous one; a limiter left idle does not save up more than its burst.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let now = Instant::now();
        let start = {
            // Never held across an await, so a std mutex is right; a poisoned one only means
            // another task panicked between two lines that cannot leave it inconsistent.
            let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let slot = next.map_or(now, |slot| slot.max(now));
            *next = Some(slot + interval);
            slot.checked_sub(self.tolerance).unwrap_or(slot).max(now)
        };
        if start > now {
            tokio::time::sleep_until(start).await;
        }
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
    async fn a_listing_of_a_thousand_requests_takes_the_bound() {
        let start = Instant::now();
        let limiter = Arc::new(RateLimiter::new(Some(20.0)));
        let times = release_times(limiter, 1000).await;
        // (n - 1) intervals: within a millisecond of 49.95 s, never faster.
        assert_eq!(times.last(), Some(&Duration::from_millis(49_950)));
        assert!(Instant::now() - start >= Duration::from_millis(49_950));
    }
}
