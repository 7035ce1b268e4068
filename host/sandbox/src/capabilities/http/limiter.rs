//! Rate and concurrency limits of a connection's outbound requests: a token bucket (requests per
//! period, with a burst) and a semaphore (requests in flight), per connection and per endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A request budget: `requests` per `period`, all of which may be spent at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Requests allowed per period (also the burst).
    pub requests: u32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    fn per_second(&self) -> f64 {
        f64::from(self.requests) / self.period.as_secs_f64()
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
        Bucket {
            capacity: f64::from(rate.requests.max(1)),
            per_second: rate.per_second(),
            tokens: f64::from(rate.requests.max(1)),
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

struct Scope {
    bucket: Option<Mutex<Bucket>>,
    semaphore: Option<Arc<Semaphore>>,
}

impl Scope {
    fn new(limits: ScopeLimits) -> Self {
        Scope {
            bucket: limits.rate.map(|r| Mutex::new(Bucket::new(r))),
            semaphore: limits
                .max_concurrent
                .map(|n| Arc::new(Semaphore::new(n.max(1) as usize))),
        }
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
}

impl Limiter {
    /// A limiter for a connection's limits and the per-endpoint limits.
    pub fn new(connection: ScopeLimits, endpoint: ScopeLimits) -> Self {
        Limiter {
            connection: Scope::new(connection),
            endpoint_limits: endpoint,
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    fn endpoint(&self, key: &str) -> Option<Arc<Scope>> {
        if self.endpoint_limits == ScopeLimits::default() {
            return None;
        }
        let mut endpoints = self.endpoints.lock().unwrap();
        Some(
            endpoints
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(Scope::new(self.endpoint_limits)))
                .clone(),
        )
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
        Some(Rate {
            requests,
            period: Duration::from_millis(ms),
        })
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
