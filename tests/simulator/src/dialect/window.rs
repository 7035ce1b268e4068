//! A rolling-window request budget ("at most N calls in the last hour"), per key: Autotask
//! counts per tenant database, Kaseya BMS per endpoint.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls made in the rolling window, per key.
#[derive(Debug)]
pub(crate) struct RollingWindow {
    limit: u64,
    window: Duration,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// A call over the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OverBudget {
    /// Whole seconds (at least 1) until the oldest call of the window leaves it.
    pub(crate) retry_after_secs: u64,
}

impl RollingWindow {
    /// At most `limit` calls per key within `window` (a limit of 0 means unlimited).
    pub(crate) fn new(limit: u64, window: Duration) -> RollingWindow {
        RollingWindow {
            limit,
            window,
            calls: Mutex::new(HashMap::new()),
        }
    }

    fn prune(&self, calls: &mut VecDeque<Instant>, now: Instant) {
        while calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            calls.pop_front();
        }
    }

    /// Counts a call of `key` unless the budget is spent; returns the calls in the window
    /// including this one. A refused call is not counted.
    pub(crate) fn hit(&self, key: &str) -> Result<u64, OverBudget> {
        let now = Instant::now();
        let mut all = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let calls = all.entry(key.to_string()).or_default();
        self.prune(calls, now);
        if self.limit > 0 && calls.len() as u64 >= self.limit {
            let oldest = calls.front().copied().unwrap_or(now);
            let left = self.window.saturating_sub(now.duration_since(oldest));
            return Err(OverBudget {
                retry_after_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        calls.push_back(now);
        Ok(calls.len() as u64)
    }

    /// The calls of `key` in the window.
    pub(crate) fn used(&self, key: &str) -> u64 {
        let mut all = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match all.get_mut(key) {
            Some(calls) => {
                self.prune(calls, Instant::now());
                calls.len() as u64
            }
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_per_key_and_forgets_old_calls() {
        let w = RollingWindow::new(2, Duration::from_millis(200));
        assert_eq!(w.hit("a"), Ok(1));
        assert_eq!(w.hit("a"), Ok(2));
        let over = w.hit("a").unwrap_err();
        assert_eq!(over.retry_after_secs, 1);
        assert_eq!(w.used("a"), 2, "a refused call is not counted");
        assert_eq!(w.hit("b"), Ok(1));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(w.used("a"), 0);
        assert_eq!(w.hit("a"), Ok(1));
        let hour = RollingWindow::new(1, Duration::from_secs(3600));
        hour.hit("x").unwrap();
        assert!(hour.hit("x").unwrap_err().retry_after_secs > 3500);
        let unlimited = RollingWindow::new(0, Duration::from_secs(1));
        for _ in 0..10 {
            unlimited.hit("x").unwrap();
        }
    }
}
