//! Fault injection shared by every dialect: rate limiting (429), server errors (5xx), slow
//! responses and malformed bodies. Knobs are atomics, so tests turn them on and off while the
//! simulator runs; only API requests (not discovery) are counted.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

/// Fault settings; 0 turns a knob off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultConfig {
    /// Every Nth API request is answered 429 Too Many Requests.
    pub too_many_requests_every: u64,
    /// The `Retry-After` seconds sent with each 429.
    pub retry_after_secs: u64,
    /// Every Nth API request is answered with [`server_error_status`](Self::server_error_status).
    pub server_error_every: u64,
    /// The status of injected server errors (500 to 599; default 503).
    pub server_error_status: u16,
    /// Every API response is delayed by this many milliseconds.
    pub delay_ms: u64,
    /// Every Nth API request is answered with its body cut in half (invalid JSON).
    pub malformed_every: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            too_many_requests_every: 0,
            retry_after_secs: 1,
            server_error_every: 0,
            server_error_status: 503,
            delay_ms: 0,
            malformed_every: 0,
        }
    }
}

/// One "every Nth request" knob with its own counter, restarted whenever the knob is set, so
/// "every 3rd" means the 3rd, 6th, ... request after the change.
#[derive(Debug, Default)]
struct EveryNth {
    every: AtomicU64,
    seen: AtomicU64,
}

impl EveryNth {
    fn set(&self, every: u64) {
        self.every.store(every, Ordering::SeqCst);
        self.seen.store(0, Ordering::SeqCst);
    }

    fn get(&self) -> u64 {
        self.every.load(Ordering::SeqCst)
    }

    /// Counts one request; true when it is the Nth.
    fn fires(&self) -> bool {
        let every = self.get();
        if every == 0 {
            return false;
        }
        let seen = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        seen.is_multiple_of(every)
    }
}

/// The fault injected into one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer 429 with this `Retry-After`.
    TooManyRequests {
        /// Seconds to send in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Answer with this 5xx status.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// Serve the real response with its body truncated.
    Malformed,
}

/// What to do to one API request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// Wait this long before answering.
    pub delay: Duration,
    /// The fault to inject, if any (429 before 5xx before malformed when several fire at once).
    pub fault: Option<Fault>,
    /// Wait this long after handling the request, before the answer leaves: the request's
    /// effect is applied while the client still waits (a lost answer when it gives up).
    pub answer_delay: Duration,
}

/// The live fault knobs of a running simulator.
#[derive(Debug, Default)]
pub struct Faults {
    too_many: EveryNth,
    retry_after_secs: AtomicU64,
    server_error: EveryNth,
    server_error_status: AtomicU16,
    delay_ms: AtomicU64,
    answer_delay_ms: AtomicU64,
    answer_delay_after: AtomicU64,
    malformed: EveryNth,
    api_requests: AtomicU64,
    quota: std::sync::Mutex<Option<WindowQuota>>,
    throttled: AtomicU64,
}

/// A PSA's request budget per fixed window: beyond `requests` in the current window, 429 with
/// `Retry-After` up to the window's end.
#[derive(Debug)]
struct WindowQuota {
    requests: u64,
    window: Duration,
    start: std::time::Instant,
    index: u64,
    used: u64,
}

impl Faults {
    /// Knobs set from `config`.
    pub fn new(config: &FaultConfig) -> Faults {
        let faults = Faults::default();
        faults.set(config);
        faults
    }

    /// Replaces every knob (and restarts their counters).
    pub fn set(&self, config: &FaultConfig) {
        self.set_too_many_requests(config.too_many_requests_every, config.retry_after_secs);
        self.set_server_errors(config.server_error_every, config.server_error_status);
        self.set_delay_ms(config.delay_ms);
        self.set_malformed_every(config.malformed_every);
    }

    /// The current settings.
    pub fn config(&self) -> FaultConfig {
        FaultConfig {
            too_many_requests_every: self.too_many.get(),
            retry_after_secs: self.retry_after_secs.load(Ordering::SeqCst),
            server_error_every: self.server_error.get(),
            server_error_status: self.server_error_status.load(Ordering::SeqCst),
            delay_ms: self.delay_ms.load(Ordering::SeqCst),
            malformed_every: self.malformed.get(),
        }
    }

    /// Turns every fault off.
    pub fn clear(&self) {
        self.set(&FaultConfig::default());
        self.set_answer_delay_ms(0);
    }

    /// Every `every`th API request from now on gets 429 with `Retry-After: retry_after_secs` (0 turns it off).
    pub fn set_too_many_requests(&self, every: u64, retry_after_secs: u64) {
        self.retry_after_secs
            .store(retry_after_secs, Ordering::SeqCst);
        self.too_many.set(every);
    }

    /// Every `every`th API request from now on gets `status` (a 5xx; anything else means 503).
    pub fn set_server_errors(&self, every: u64, status: u16) {
        let status = if (500..=599).contains(&status) {
            status
        } else {
            503
        };
        self.server_error_status.store(status, Ordering::SeqCst);
        self.server_error.set(every);
    }

    /// Delays every API response by `ms` milliseconds.
    pub fn set_delay_ms(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Delays every API answer by `ms` milliseconds after the request was handled (its
    /// effect applied), unlike [`set_delay_ms`](Self::set_delay_ms); not part of
    /// [`FaultConfig`], and [`clear`](Self::clear) turns it off too.
    pub fn set_answer_delay_ms(&self, ms: u64) {
        self.set_answer_delay_after(0, ms);
    }

    /// Like [`set_answer_delay_ms`](Self::set_answer_delay_ms), for the API requests after the
    /// first `requests` counted so far ([`api_requests`](Self::api_requests)): a test lets the
    /// reads it knows of through and delays the write that follows.
    pub fn set_answer_delay_after(&self, requests: u64, ms: u64) {
        self.answer_delay_after.store(requests, Ordering::SeqCst);
        self.answer_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Every `every`th API request from now on gets a truncated body (0 turns it off).
    pub fn set_malformed_every(&self, every: u64) {
        self.malformed.set(every);
    }

    /// From now on at most `requests` API requests per fixed `window` (the first starting now)
    /// are served; the others are answered 429 with `Retry-After` up to the window's end, in
    /// whole seconds. `requests` 0 turns it off.
    pub fn set_window_quota(&self, requests: u64, window: Duration) {
        *self.quota.lock().unwrap_or_else(|e| e.into_inner()) = (requests > 0 && !window.is_zero())
            .then(|| WindowQuota {
                requests,
                window,
                start: std::time::Instant::now(),
                index: 0,
                used: 0,
            });
        self.throttled.store(0, Ordering::SeqCst);
    }

    /// API requests answered 429 by the window quota since it was set.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    /// The window quota's 429, if this request is over the budget.
    fn over_quota(&self) -> Option<Fault> {
        let mut quota = self.quota.lock().unwrap_or_else(|e| e.into_inner());
        let q = quota.as_mut()?;
        let elapsed = q.start.elapsed();
        let index = (elapsed.as_nanos() / q.window.as_nanos().max(1)) as u64;
        if index != q.index {
            q.index = index;
            q.used = 0;
        }
        if q.used < q.requests {
            q.used += 1;
            return None;
        }
        self.throttled.fetch_add(1, Ordering::SeqCst);
        let end = q.window * (index as u32 + 1);
        Some(Fault::TooManyRequests {
            retry_after_secs: end.saturating_sub(elapsed).as_secs_f64().ceil() as u64,
        })
    }

    /// API requests counted so far (whether or not a fault was injected).
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(Ordering::SeqCst)
    }

    /// Counts one API request and decides its fault.
    pub fn next(&self) -> FaultPlan {
        let number = self.api_requests.fetch_add(1, Ordering::SeqCst) + 1;
        let answer_delay = if number > self.answer_delay_after.load(Ordering::SeqCst) {
            self.answer_delay_ms.load(Ordering::SeqCst)
        } else {
            0
        };
        // Every knob counts every request, even when an earlier knob already fired.
        let too_many = self.too_many.fires();
        let server_error = self.server_error.fires();
        let malformed = self.malformed.fires();
        let fault = if let Some(quota) = self.over_quota() {
            Some(quota)
        } else if too_many {
            Some(Fault::TooManyRequests {
                retry_after_secs: self.retry_after_secs.load(Ordering::SeqCst),
            })
        } else if server_error {
            Some(Fault::ServerError {
                status: self.server_error_status.load(Ordering::SeqCst),
            })
        } else if malformed {
            Some(Fault::Malformed)
        } else {
            None
        };
        FaultPlan {
            delay: Duration::from_millis(self.delay_ms.load(Ordering::SeqCst)),
            fault,
            answer_delay: Duration::from_millis(answer_delay),
        }
    }
}

/// Cuts a response body in half so it is no longer valid JSON (an empty body becomes `[`).
pub fn truncate_body(body: &[u8]) -> Vec<u8> {
    if body.len() < 2 {
        return b"[".to_vec();
    }
    body[..body.len() / 2].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_quota_answers_429_until_the_window_ends() {
        let f = Faults::new(&FaultConfig::default());
        f.set_window_quota(3, Duration::from_secs(10));
        let faults: Vec<Option<Fault>> = (0..5).map(|_| f.next().fault).collect();
        assert_eq!(&faults[..3], &[None, None, None]);
        for fault in &faults[3..] {
            assert!(
                matches!(fault, Some(Fault::TooManyRequests { retry_after_secs }) if (9..=10).contains(retry_after_secs)),
                "{fault:?}"
            );
        }
        assert_eq!((f.throttled(), f.api_requests()), (2, 5));
        f.set_window_quota(0, Duration::from_secs(10));
        assert_eq!(f.next().fault, None, "off");
    }

    #[test]
    fn every_nth_counts_from_when_it_was_set() {
        let f = Faults::new(&FaultConfig::default());
        f.next();
        f.set_too_many_requests(3, 7);
        let plans: Vec<_> = (0..6).map(|_| f.next().fault).collect();
        let hit = Some(Fault::TooManyRequests {
            retry_after_secs: 7,
        });
        assert_eq!(plans, vec![None, None, hit, None, None, hit]);
        assert_eq!(f.api_requests(), 7);
    }

    #[test]
    fn rate_limit_wins_over_server_error_and_malformed() {
        let f = Faults::new(&FaultConfig {
            too_many_requests_every: 2,
            server_error_every: 2,
            malformed_every: 1,
            ..FaultConfig::default()
        });
        assert_eq!(f.next().fault, Some(Fault::Malformed));
        assert!(matches!(
            f.next().fault,
            Some(Fault::TooManyRequests { .. })
        ));
    }

    #[test]
    fn a_bad_server_error_status_means_503() {
        let f = Faults::default();
        f.set_server_errors(1, 404);
        assert_eq!(f.next().fault, Some(Fault::ServerError { status: 503 }));
        f.set_server_errors(1, 500);
        assert_eq!(f.next().fault, Some(Fault::ServerError { status: 500 }));
    }

    #[test]
    fn truncated_bodies_are_not_json() {
        for body in [&b"[]"[..], b"", b"{\"count\":3}", b"[{\"id\":1}]"] {
            let cut = truncate_body(body);
            assert!(
                serde_json::from_slice::<serde_json::Value>(&cut).is_err(),
                "{cut:?}"
            );
        }
    }
}
