//! One lock per connection, for the workflows of which a connection must run one at a time in
//! a process: a delivery drain (two would both send the same queued alert), an inventory batch
//! (two could both create a device's configuration). The daemon keeps one set per workflow;
//! across replicas the connection's lease does the same ([`psahost_store`]'s fencing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OwnedMutexGuard;

/// Locks by connection id (one per connection ever locked: the configured connections).
#[derive(Default)]
pub struct ConnectionLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ConnectionLocks {
    fn of(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// Waits for connection `id`'s lock; held until the guard is dropped.
    pub async fn lock(&self, id: &str) -> OwnedMutexGuard<()> {
        self.of(id).lock_owned().await
    }

    /// Connection `id`'s lock if it is free now (none: a run holds it).
    pub fn try_lock(&self, id: &str) -> Option<OwnedMutexGuard<()>> {
        self.of(id).try_lock_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_per_connection() {
        let locks = ConnectionLocks::default();
        let a = locks.try_lock("a").expect("free");
        assert!(locks.try_lock("a").is_none(), "held");
        let b = locks.try_lock("b");
        assert!(b.is_some(), "another connection is free");
        drop(a);
        assert!(locks.try_lock("a").is_some(), "released when dropped");
        let _held = locks.lock("a").await;
        assert!(locks.try_lock("a").is_none());
    }
}
