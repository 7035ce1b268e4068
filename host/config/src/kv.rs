//! The connectors' kv namespaces where the configuration puts them: sled in
//! `<data-dir>/kv`, or, with `[store] postgres`, PostgreSQL (shared by the replicas).

use psahost_sandbox::capabilities::kv::{KvBackend, KvFuture, KvStore};
use psahost_store::PgStore;
use std::sync::Arc;

/// The PostgreSQL store as the sandbox's kv backend.
struct PgKv(PgStore);

impl KvBackend for PgKv {
    fn get<'a>(&'a self, connection: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        Box::pin(self.0.kv_get(connection, key))
    }

    fn set<'a>(
        &'a self,
        connection: &'a str,
        key: &'a str,
        value: &'a [u8],
        quota: u64,
    ) -> KvFuture<'a, bool> {
        Box::pin(self.0.kv_set(connection, key, value, quota))
    }

    fn delete<'a>(&'a self, connection: &'a str, key: &'a str) -> KvFuture<'a, ()> {
        Box::pin(self.0.kv_delete(connection, key))
    }

    fn used_bytes<'a>(&'a self, connection: &'a str) -> KvFuture<'a, u64> {
        Box::pin(self.0.kv_used_bytes(connection))
    }

    fn list_keys<'a>(&'a self, connection: &'a str, prefix: &'a str) -> KvFuture<'a, Vec<String>> {
        Box::pin(self.0.kv_keys(connection, prefix))
    }
}

/// The kv namespaces in `pg` (its pool is shared with the record store).
pub fn shared_kv(pg: PgStore) -> KvStore {
    KvStore::shared(Arc::new(PgKv(pg)))
}
