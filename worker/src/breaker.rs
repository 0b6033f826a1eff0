//! The circuit breaker in front of the sandbox.
//!
//! Closed → Open when, over the last `window` sandbox calls, at least `min_failures` failed
//! and they are at least `failure_rate` of the window; Open for `open_for` → Half-open;
//! in Half-open up to `half_open_trials` calls go through: one success closes the breaker,
//! that many failures reopen it. Outcomes live in a sliding window, never in lifetime
//! counters, so a long run of successes cannot make the breaker impossible to trip.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Thresholds; the defaults are the specification's.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct BreakerConfig {
    /// Calls in the sliding window.
    pub window: usize,
    /// Failures needed in the window before the breaker can open.
    pub min_failures: usize,
    /// Share of failures in the window that opens the breaker.
    pub failure_rate: f64,
    /// How long the breaker stays open before trying again, in milliseconds.
    pub open_ms: u64,
    /// Trial calls allowed while half-open.
    pub half_open_trials: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: 10,
            min_failures: 5,
            failure_rate: 0.5,
            open_ms: 5_000,
            half_open_trials: 3,
        }
    }
}

/// The breaker's state, defined with the gauge values operators see.
pub use riptide_shared::outcome::BreakerState as State;

/// Where a call should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Sandbox,
    /// The breaker is open (or its trials are all taken): use the native fallback.
    Fallback,
}

/// Time, behind a trait so tests can drive the breaker with a fake clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

pub struct Breaker {
    config: BreakerConfig,
    clock: Box<dyn Clock>,
    inner: Mutex<Inner>,
}

struct Inner {
    state: State,
    /// Outcomes of the latest calls while closed, newest last; `true` is a failure.
    window: VecDeque<bool>,
    opened_at: Option<Instant>,
    trials_started: u32,
    trial_failures: u32,
    trips: u64,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self::with_clock(config, Box::new(SystemClock))
    }

    pub fn with_clock(config: BreakerConfig, clock: Box<dyn Clock>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                state: State::Closed,
                window: VecDeque::with_capacity(config.window),
                opened_at: None,
                trials_started: 0,
                trial_failures: 0,
                trips: 0,
            }),
            config,
            clock,
        }
    }

    /// Decides where the next call goes; a half-open trial is counted when granted.
    pub fn route(&self) -> Route {
        let mut inner = self.lock();
        self.half_open_when_due(&mut inner);
        if inner.state == State::Open {
            return Route::Fallback;
        }
        if inner.state == State::HalfOpen {
            if inner.trials_started >= self.config.half_open_trials {
                return Route::Fallback;
            }
            inner.trials_started += 1;
        }
        Route::Sandbox
    }

    /// Records the outcome of a sandbox call that `route` sent to the sandbox.
    pub fn record(&self, failed: bool) {
        let mut inner = self.lock();
        match inner.state {
            State::Closed => {
                if inner.window.len() == self.config.window.max(1) {
                    inner.window.pop_front();
                }
                inner.window.push_back(failed);
                let failures = inner.window.iter().filter(|f| **f).count();
                let rate = failures as f64 / inner.window.len() as f64;
                if failures >= self.config.min_failures && rate >= self.config.failure_rate {
                    self.open(&mut inner);
                }
            }
            State::HalfOpen if !failed => {
                inner.state = State::Closed;
                inner.window.clear();
            }
            State::HalfOpen => {
                inner.trial_failures += 1;
                if inner.trial_failures >= self.config.half_open_trials {
                    self.open(&mut inner);
                }
            }
            // A call that started before the breaker opened: its outcome is stale.
            State::Open => {}
        }
    }

    /// The state now: an open breaker whose open period has passed reports half-open even
    /// before the next call, so an idle worker does not keep the breaker-open alert firing.
    pub fn state(&self) -> State {
        let mut inner = self.lock();
        self.half_open_when_due(&mut inner);
        inner.state
    }

    fn half_open_when_due(&self, inner: &mut Inner) {
        let open_for = Duration::from_millis(self.config.open_ms);
        if inner.state == State::Open
            && inner
                .opened_at
                .is_some_and(|at| self.clock.now().duration_since(at) >= open_for)
        {
            inner.state = State::HalfOpen;
            inner.trials_started = 0;
            inner.trial_failures = 0;
        }
    }

    /// Times the breaker has opened.
    pub fn trips(&self) -> u64 {
        self.lock().trips
    }

    fn open(&self, inner: &mut Inner) {
        inner.state = State::Open;
        inner.opened_at = Some(self.clock.now());
        inner.window.clear();
        inner.trips += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is plain data, valid even if a holder panicked.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A clock that moves only when told to.
    #[derive(Clone)]
    struct FakeClock(Arc<Mutex<Instant>>);

    impl FakeClock {
        fn new() -> Self {
            Self(Arc::new(Mutex::new(Instant::now())))
        }
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    fn breaker() -> (Breaker, FakeClock) {
        let clock = FakeClock::new();
        (
            Breaker::with_clock(BreakerConfig::default(), Box::new(clock.clone())),
            clock,
        )
    }

    fn call(b: &Breaker, failed: bool) -> Route {
        let route = b.route();
        if route == Route::Sandbox {
            b.record(failed);
        }
        route
    }

    #[test]
    fn trips_at_half_of_ten_with_five_failures() {
        let (b, _) = breaker();
        for _ in 0..5 {
            call(&b, false);
        }
        for _ in 0..4 {
            call(&b, true);
        }
        assert_eq!(b.state(), State::Closed, "4 failures of 9 do not trip");
        call(&b, true);
        assert_eq!(b.state(), State::Open, "5 failures of 10 trip");
        assert_eq!(b.trips(), 1);
        assert_eq!(b.route(), Route::Fallback);
    }

    #[test]
    fn four_failures_never_trip_even_at_high_rate() {
        let (b, _) = breaker();
        for _ in 0..4 {
            call(&b, true);
        }
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn half_opens_after_five_seconds_and_closes_on_a_success() {
        let (b, clock) = breaker();
        for _ in 0..5 {
            call(&b, true);
        }
        clock.advance(Duration::from_millis(4_999));
        assert_eq!(b.route(), Route::Fallback);
        clock.advance(Duration::from_millis(1));
        assert_eq!(b.route(), Route::Sandbox);
        assert_eq!(b.state(), State::HalfOpen);
        b.record(false);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn an_idle_open_breaker_reports_half_open_once_its_open_period_passed() {
        let (b, clock) = breaker();
        for _ in 0..5 {
            call(&b, true);
        }
        assert_eq!(b.state(), State::Open);
        clock.advance(Duration::from_secs(5));
        assert_eq!(b.state(), State::HalfOpen, "no call needed to leave open");
        assert_eq!(b.route(), Route::Sandbox, "its trials are still available");
    }

    #[test]
    fn reopens_after_three_failed_trials_and_limits_trials() {
        let (b, clock) = breaker();
        for _ in 0..5 {
            call(&b, true);
        }
        clock.advance(Duration::from_secs(5));
        assert_eq!(b.route(), Route::Sandbox);
        assert_eq!(b.route(), Route::Sandbox);
        assert_eq!(b.route(), Route::Sandbox);
        assert_eq!(b.route(), Route::Fallback, "only 3 trials at a time");
        b.record(true);
        b.record(true);
        assert_eq!(b.state(), State::HalfOpen);
        b.record(true);
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.trips(), 2);
        assert_eq!(b.route(), Route::Fallback);
    }

    #[test]
    fn a_long_run_of_successes_does_not_make_it_untrippable() {
        let (b, _) = breaker();
        for _ in 0..100_000 {
            call(&b, false);
        }
        for _ in 0..5 {
            call(&b, true);
        }
        assert_eq!(b.state(), State::Open);
    }
}
