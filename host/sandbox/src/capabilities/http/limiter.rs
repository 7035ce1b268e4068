//! Rate and concurrency limits of a connection's outbound requests: a token bucket (requests per
//! period, with a burst) and a semaphore (requests in flight), per connection and per endpoint.
//!
//! Endpoint labels come from the guest, so the per-endpoint scopes are bounded: at most
//! `max_scopes` of them, each label at most [`MAX_ENDPOINT_LABEL`] bytes. A scope unused for
//! longer than its rate's period (at least [`MIN_IDLE`]) and with no request in flight is idle:
//! its bucket is full again, so forgetting it changes nothing, and it is evicted to make room. A
//! label that is too long, or that finds the table full of live scopes, shares one overflow
//! scope (same limits, one budget for all of them) and is counted in `rejected_labels`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// A request budget: `requests` per `period`.
///
/// Without `burst`, a classic token bucket: all `requests` may be spent at once, and they come
/// back at `requests / period`; a period that starts with a full bucket can then see up to
/// twice the budget. With `burst` (1 to `requests`), never more than `requests` in any window
/// of one `period`, whatever its start: `burst` at once, the rest paced over the period (a PSA
/// that counts requests per fixed window then never answers 429; with a burst of 1 the pace
/// is `requests - 1` per period, so one request of margin absorbs the network's jitter).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Requests allowed per period.
    pub requests: u32,
    /// The period.
    pub period: Duration,
    /// At most this many at once, and never more than `requests` in any period; none: a
    /// burst of `requests` (see the type's documentation).
    pub burst: Option<u32>,
}

impl Rate {
    /// `requests` per `period`, a classic token bucket.
    pub fn new(requests: u32, period: Duration) -> Rate {
        Rate {
            requests,
            period,
            burst: None,
        }
    }

    /// The bucket's size and its refill per second.
    fn bucket(&self) -> (f64, f64) {
        let requests = f64::from(self.requests.max(1));
        let period = self.period.as_secs_f64();
        match self.burst {
            None => (requests, requests / period),
            Some(burst) => {
                let burst = f64::from(burst.clamp(1, self.requests.max(1)));
                // Any window of one period: `burst` + refill x period <= requests.
                (burst, (requests - burst).max(1.0) / period)
            }
        }
    }

    fn per_second(&self) -> f64 {
        self.bucket().1
    }
}

/// The limits of one scope (a connection, or one endpoint of it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScopeLimits {
    /// The request budget, if any.
    pub rate: Option<Rate>,
    /// Requests in flight at once, if limited.
    pub max_concurrent: Option<u32>,
}

impl ScopeLimits {
    /// The stricter of two limits, field by field.
    pub fn stricter(self, other: ScopeLimits) -> ScopeLimits {
        let rate = match (self.rate, other.rate) {
            (Some(a), Some(b)) => Some(if a.per_second() <= b.per_second() {
                a
            } else {
                b
            }),
            (a, b) => a.or(b),
        };
        let max_concurrent = match (self.max_concurrent, other.max_concurrent) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ScopeLimits {
            rate,
            max_concurrent,
        }
    }
}

struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        let (capacity, per_second) = rate.bucket();
        Bucket {
            capacity,
            per_second,
            tokens: capacity,
            updated: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// How long until a token is available, without taking it.
    fn wait(&mut self, now: Instant) -> Duration {
        self.refill(now);
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }

    /// Takes a token now; the count may go negative, which queues later callers behind it.
    fn take(&mut self, now: Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }
}

/// Longest endpoint label (explicit name or folded path) that gets a scope of its own.
pub const MAX_ENDPOINT_LABEL: usize = 256;

/// Default most endpoint scopes one connection keeps.
pub const DEFAULT_MAX_ENDPOINT_SCOPES: usize = 256;

/// Shortest time without use after which an endpoint scope may be evicted.
pub const MIN_IDLE: Duration = Duration::from_secs(60);

struct Scope {
    bucket: Option<Mutex<Bucket>>,
    semaphore: Option<Arc<Semaphore>>,
    permits: usize,
    last_used: Mutex<Instant>,
}

impl Scope {
    fn new(limits: ScopeLimits) -> Self {
        let permits = limits
            .max_concurrent
            .map(|n| n.max(1) as usize)
            .unwrap_or(0);
        Scope {
            bucket: limits.rate.map(|r| Mutex::new(Bucket::new(r))),
            semaphore: limits
                .max_concurrent
                .map(|_| Arc::new(Semaphore::new(permits))),
            permits,
            last_used: Mutex::new(Instant::now()),
        }
    }

    /// Whether forgetting this scope changes nothing: unused for `idle`, nothing in flight.
    fn idle(&self, now: Instant, idle: Duration) -> bool {
        let unused = now.saturating_duration_since(*self.last_used.lock().unwrap()) >= idle;
        let free = self
            .semaphore
            .as_ref()
            .is_none_or(|s| s.available_permits() == self.permits);
        unused && free
    }
}

/// What a caller holds while its request is in flight.
pub struct Permit {
    _permits: Vec<OwnedSemaphorePermit>,
    /// How long the caller waited for the rate limit.
    pub waited: Duration,
}

/// Why no permit was given.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// A token would only be available after this long, past the caller's budget.
    RateLimited(Duration),
    /// No request slot freed up within the caller's budget.
    Busy,
}

/// The limits of one connection.
pub struct Limiter {
    connection: Scope,
    endpoint_limits: ScopeLimits,
    endpoints: Mutex<HashMap<String, Arc<Scope>>>,
    overflow: Arc<Scope>,
    max_scopes: usize,
    idle: Duration,
    rejected: AtomicU64,
}

impl Limiter {
    /// A limiter for a connection's limits and the per-endpoint limits, keeping at most
    /// [`DEFAULT_MAX_ENDPOINT_SCOPES`] endpoint scopes.
    pub fn new(connection: ScopeLimits, endpoint: ScopeLimits) -> Self {
        Self::with_max_scopes(connection, endpoint, DEFAULT_MAX_ENDPOINT_SCOPES)
    }

    /// Like [`Limiter::new`], keeping at most `max_scopes` endpoint scopes.
    pub fn with_max_scopes(
        connection: ScopeLimits,
        endpoint: ScopeLimits,
        max_scopes: usize,
    ) -> Self {
        let idle = endpoint
            .rate
            .map(|r| r.period)
            .unwrap_or_default()
            .max(MIN_IDLE);
        Limiter {
            connection: Scope::new(connection),
            endpoint_limits: endpoint,
            endpoints: Mutex::new(HashMap::new()),
            overflow: Arc::new(Scope::new(endpoint)),
            max_scopes,
            idle,
            rejected: AtomicU64::new(0),
        }
    }

    /// Labels that got no scope of their own (too long, or the table full of live scopes).
    pub fn rejected_labels(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Endpoint scopes held now.
    pub fn endpoint_scopes(&self) -> usize {
        self.endpoints.lock().unwrap().len()
    }

    fn endpoint(&self, key: &str) -> Option<Arc<Scope>> {
        if self.endpoint_limits == ScopeLimits::default() {
            return None;
        }
        let now = Instant::now();
        let scope = self.scope_of(key, now);
        *scope.last_used.lock().unwrap() = now;
        Some(scope)
    }

    fn scope_of(&self, key: &str, now: Instant) -> Arc<Scope> {
        if key.len() > MAX_ENDPOINT_LABEL {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return self.overflow.clone();
        }
        let mut endpoints = self.endpoints.lock().unwrap();
        if let Some(scope) = endpoints.get(key) {
            return scope.clone();
        }
        if endpoints.len() >= self.max_scopes {
            // Only a scope that is idle (its bucket full again, nothing in flight) may go:
            // forgetting a busy one would hand its label a fresh budget.
            endpoints.retain(|_, s| Arc::strong_count(s) > 1 || !s.idle(now, self.idle));
        }
        if endpoints.len() >= self.max_scopes {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return self.overflow.clone();
        }
        let scope = Arc::new(Scope::new(self.endpoint_limits));
        endpoints.insert(key.to_string(), scope.clone());
        scope
    }

    /// Waits for a request slot and a token on `endpoint`, for at most `budget`.
    pub async fn acquire(&self, endpoint: &str, budget: Duration) -> Result<Permit, Refusal> {
        let start = Instant::now();
        let endpoint = self.endpoint(endpoint);
        let scopes: Vec<&Scope> = std::iter::once(&self.connection)
            .chain(endpoint.as_deref())
            .collect();

        // Rate first: a caller that would wait too long is told so at once, not queued.
        let now = Instant::now();
        let wait = scopes
            .iter()
            .filter_map(|s| s.bucket.as_ref())
            .map(|b| b.lock().unwrap().wait(now))
            .max()
            .unwrap_or_default();
        if wait > budget {
            return Err(Refusal::RateLimited(wait));
        }
        for bucket in scopes.iter().filter_map(|s| s.bucket.as_ref()) {
            bucket.lock().unwrap().take(now);
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }

        let mut permits = Vec::new();
        for semaphore in scopes.iter().filter_map(|s| s.semaphore.clone()) {
            let left = budget.saturating_sub(start.elapsed());
            match tokio::time::timeout(left, semaphore.acquire_owned()).await {
                Ok(Ok(p)) => permits.push(p),
                _ => return Err(Refusal::Busy),
            }
        }
        Ok(Permit {
            _permits: permits,
            waited: wait,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(requests: u32, ms: u64) -> Option<Rate> {
        Some(Rate::new(requests, Duration::from_millis(ms)))
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_burst_then_paces() {
        let limiter = Limiter::new(
            ScopeLimits {
                rate: rate(2, 1000),
                max_concurrent: None,
            },
            ScopeLimits::default(),
        );
        let budget = Duration::from_secs(10);
        assert_eq!(
            limiter.acquire("/a", budget).await.unwrap().waited,
            Duration::ZERO
        );
        assert_eq!(
            limiter.acquire("/a", budget).await.unwrap().waited,
            Duration::ZERO
        );
        let third = limiter.acquire("/a", budget).await.unwrap();
        assert!(
            third.waited >= Duration::from_millis(490),
            "{:?}",
            third.waited
        );
    }

    /// The most requests of `times` in any window of `period` (from each request on).
    fn busiest_window(times: &[Instant], period: Duration) -> usize {
        times
            .iter()
            .map(|&t| times.iter().filter(|&&u| u >= t && u < t + period).count())
            .max()
            .unwrap_or(0)
    }

    async fn send_times(rate: Rate, n: usize) -> Vec<Instant> {
        let limiter = Limiter::new(
            ScopeLimits {
                rate: Some(rate),
                max_concurrent: None,
            },
            ScopeLimits::default(),
        );
        let mut times = Vec::new();
        for _ in 0..n {
            let _permit = limiter
                .acquire("/a", Duration::from_secs(600))
                .await
                .unwrap();
            times.push(Instant::now());
        }
        times
    }

    /// A classic bucket lets a period that starts full see up to twice its budget; with a
    /// burst, no window of one period ever holds more than the budget, and the pace uses all
    /// of it but one request.
    #[tokio::test(start_paused = true)]
    async fn a_burst_keeps_every_window_within_the_budget() {
        let second = Duration::from_secs(1);
        let classic = send_times(Rate::new(20, second), 100).await;
        assert!(busiest_window(&classic, second) > 20);
        for burst in [1, 5, 20] {
            let rate = Rate {
                burst: Some(burst),
                ..Rate::new(20, second)
            };
            let times = send_times(rate, 100).await;
            assert!(
                busiest_window(&times, second) <= 20,
                "burst {burst}: {}",
                busiest_window(&times, second)
            );
            let at_once = times.iter().filter(|&&t| t == times[0]).count();
            assert_eq!(at_once, burst as usize, "the first `burst` go at once");
        }
        // Burst 1: 19 a second, steadily.
        let times = send_times(
            Rate {
                burst: Some(1),
                ..Rate::new(20, second)
            },
            58,
        )
        .await;
        let elapsed = times[57] - times[0];
        assert!(
            (Duration::from_millis(2950)..=Duration::from_millis(3050)).contains(&elapsed),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refuses_beyond_budget() {
        let limiter = Limiter::new(
            ScopeLimits {
                rate: rate(1, 60_000),
                max_concurrent: None,
            },
            ScopeLimits::default(),
        );
        limiter.acquire("/a", Duration::from_secs(1)).await.unwrap();
        match limiter.acquire("/a", Duration::from_secs(1)).await {
            Err(Refusal::RateLimited(wait)) => assert!(wait > Duration::from_secs(50)),
            other => panic!("{:?}", other.err()),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn endpoint_concurrency_is_per_endpoint() {
        let limiter = Limiter::new(
            ScopeLimits::default(),
            ScopeLimits {
                rate: None,
                max_concurrent: Some(1),
            },
        );
        let held = limiter.acquire("/a", Duration::from_secs(1)).await.unwrap();
        assert!(limiter.acquire("/b", Duration::from_secs(1)).await.is_ok());
        assert_eq!(
            limiter
                .acquire("/a", Duration::from_millis(100))
                .await
                .err(),
            Some(Refusal::Busy)
        );
        drop(held);
        assert!(
            limiter
                .acquire("/a", Duration::from_millis(100))
                .await
                .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn endpoint_scopes_are_bounded_and_idle_ones_evicted() {
        let limiter = Limiter::with_max_scopes(
            ScopeLimits::default(),
            ScopeLimits {
                rate: rate(100, 1000),
                max_concurrent: Some(1),
            },
            4,
        );
        let budget = Duration::from_secs(5);
        // A fresh 4 MiB label per request: none of them is kept.
        let huge = "x".repeat(4 << 20);
        for i in 0..3 {
            let label = format!("{huge}{i}");
            drop(limiter.acquire(&label, budget).await.unwrap());
        }
        assert_eq!(limiter.endpoint_scopes(), 0);
        assert_eq!(limiter.rejected_labels(), 3);
        // Fresh short labels fill the table, then share the overflow scope.
        for i in 0..10 {
            drop(limiter.acquire(&format!("/e{i}"), budget).await.unwrap());
        }
        assert_eq!(limiter.endpoint_scopes(), 4);
        assert_eq!(limiter.rejected_labels(), 9);
        // Once they are idle, new labels take their places.
        tokio::time::advance(MIN_IDLE + Duration::from_secs(1)).await;
        drop(limiter.acquire("/new", budget).await.unwrap());
        assert_eq!(limiter.endpoint_scopes(), 1);
        assert_eq!(limiter.rejected_labels(), 9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_scope_is_not_evicted() {
        let limiter = Limiter::with_max_scopes(
            ScopeLimits::default(),
            ScopeLimits {
                rate: None,
                max_concurrent: Some(1),
            },
            1,
        );
        let held = limiter.acquire("/a", Duration::from_secs(1)).await.unwrap();
        tokio::time::advance(MIN_IDLE * 2).await;
        // "/b" cannot evict "/a" (a request is in flight there): it goes to the overflow scope.
        drop(limiter.acquire("/b", Duration::from_secs(1)).await.unwrap());
        assert_eq!(limiter.rejected_labels(), 1);
        // "/a" still has its own scope, still busy.
        assert_eq!(
            limiter
                .acquire("/a", Duration::from_millis(100))
                .await
                .err(),
            Some(Refusal::Busy)
        );
        drop(held);
    }

    #[test]
    fn stricter_takes_the_lower_of_each() {
        let a = ScopeLimits {
            rate: rate(10, 1000),
            max_concurrent: Some(8),
        };
        let b = ScopeLimits {
            rate: rate(10_000, 3_600_000),
            max_concurrent: None,
        };
        let s = a.stricter(b);
        assert_eq!(s.rate, rate(10_000, 3_600_000));
        assert_eq!(s.max_concurrent, Some(8));
    }
}
