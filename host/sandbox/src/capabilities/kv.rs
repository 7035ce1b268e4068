//! The `kv` capability: a small key-value store per connection, in sled, or in a shared
//! database through a [`KvBackend`] (the PostgreSQL store of several replicas, so a connector's
//! saved state follows its connection from one replica to another).
//!
//! In sled, every connection's keys are in one shared tree, `kv`, each key behind its
//! connection's prefix (the id's length as a `u32` big endian, then the id's bytes: no
//! connection's prefix starts with another's, so connection `a` never sees `ab`'s keys); in a
//! shared database, each connection has its own rows. One connection can never name another's
//! keys. Keys and values have size caps and each namespace has a byte quota.
//! The bytes a namespace uses are kept in the `kv-sizes` tree (key: the connection id, value:
//! `u64` big endian) and updated in the same sled transaction as each write, so the quota check
//! reads one counter instead of scanning the namespace; a namespace from before the counter is
//! measured once when it is opened. Layout 1 (before the shared tree) had a tree per connection,
//! `kv/<connection id>`: [`KvStore::open`] moves them into `kv` (see `migrate`), and the
//! default tree's `format` key holds the layout version ([`KV_FORMAT`]).
//! sled calls block, so they run on tokio's blocking pool, never on the async workers.
//!
//! A write is not part of the call: a `set` or `delete` the guest saw succeed stays, even if
//! the call then traps, hits a cap or runs out of time (as a request it sent stays sent).
//! Connectors write state they can rebuild or that is valid on its own (a token, a cursor).

use crate::bindings::psa::connector::kv::{Host, KvError};
use crate::runtime::CallState;
use anyhow::Context;
use std::path::Path;

/// Size caps of one connection's namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvLimits {
    /// Longest key, in bytes.
    pub max_key_bytes: u32,
    /// Largest value, in bytes.
    pub max_value_bytes: u32,
    /// Total of keys and values, in bytes.
    pub quota_bytes: u64,
}

impl Default for KvLimits {
    fn default() -> Self {
        KvLimits {
            max_key_bytes: 512,
            max_value_bytes: 64 * 1024,
            quota_bytes: 1024 * 1024,
        }
    }
}

/// A database holding the connections' namespaces other than the embedded sled one. The
/// namespace checks the key and value caps before it calls the backend; the backend keeps each
/// namespace's byte count with its writes and enforces the quota in the same transaction.
pub trait KvBackend: Send + Sync + 'static {
    /// The value of `key` in namespace `connection`.
    fn get<'a>(&'a self, connection: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>>;
    /// Sets `key` unless the namespace's bytes (keys and values) would then exceed `quota`
    /// and the write grows it: false when the quota refused it.
    fn set<'a>(
        &'a self,
        connection: &'a str,
        key: &'a str,
        value: &'a [u8],
        quota: u64,
    ) -> KvFuture<'a, bool>;
    /// Removes `key` (absent: nothing happens).
    fn delete<'a>(&'a self, connection: &'a str, key: &'a str) -> KvFuture<'a, ()>;
    /// Bytes of keys and values in the namespace (the counter the quota is checked against).
    fn used_bytes<'a>(&'a self, connection: &'a str) -> KvFuture<'a, u64>;
    /// The keys starting with `prefix`, in byte order.
    fn list_keys<'a>(&'a self, connection: &'a str, prefix: &'a str) -> KvFuture<'a, Vec<String>>;
}

/// What a [`KvBackend`] call returns.
pub type KvFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<T>> + Send + 'a>>;

/// The kv store's sled layout version: 1 had a tree per connection (`kv/<connection id>`), 2 has
/// the shared `kv` tree keyed by connection prefix.
pub const KV_FORMAT: u64 = 2;
/// The default tree's key holding the layout version (`u64` big endian; absent: 1).
const FORMAT_KEY: &[u8] = b"format";
/// Entries moved per atomic batch by the migration.
const MIGRATION_BATCH: usize = 10_000;

/// The database holding every connection's namespace.
#[derive(Clone)]
pub struct KvStore {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sled {
        db: sled::Db,
        /// Every connection's keys, behind its prefix.
        kv: sled::Tree,
        /// Connection id -> bytes its namespace uses (`u64` big endian).
        sizes: sled::Tree,
    },
    Shared(std::sync::Arc<dyn KvBackend>),
}

impl KvStore {
    /// Opens (or creates) the store at `path`, moving the namespaces of the previous layout (a
    /// tree per connection) into the shared tree first; refuses a store of a newer layout.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let cannot = || format!("cannot open the kv store at `{}`", path.display());
        let db = sled::open(path).with_context(cannot)?;
        let store = KvStore::sled(db).with_context(cannot)?;
        // On a thread that ends: each dropped layout-1 tree copies sled's map of tree names,
        // and the old copies stay in the dropping thread's garbage bag until it ends.
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("psahost-sled-migrate".into())
                .spawn_scoped(s, || store.migrate())
                .map_err(|e| anyhow::anyhow!("cannot start a thread to migrate: {e}"))?
                .join()
                .map_err(|_| anyhow::anyhow!("the migration panicked"))?
        })
        .with_context(cannot)?;
        Ok(store)
    }

    /// A store that lives in memory only (for one-off commands and tests).
    pub fn temporary() -> anyhow::Result<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .context("cannot create a temporary kv store")?;
        let store = KvStore::sled(db).context("cannot create a temporary kv store")?;
        store.migrate()?;
        Ok(store)
    }

    fn sled(db: sled::Db) -> anyhow::Result<Self> {
        Ok(KvStore {
            backend: Backend::Sled {
                kv: db.open_tree("kv")?,
                sizes: db.open_tree("kv-sizes")?,
                db,
            },
        })
    }

    /// Brings a sled store to layout [`KV_FORMAT`]: each layout-1 tree `kv/C` (keys and values
    /// as the guest wrote them) moves into `kv` under `C`'s prefix, in atomic batches; the
    /// store is flushed and only then the old tree dropped, so an interrupted migration runs
    /// again at the next open and writes the same keys again (nothing is duplicated). The
    /// `kv-sizes` counters, keyed by connection id in both layouts, stay as they are. The
    /// `format` key is written when no `kv/C` tree is left.
    fn migrate(&self) -> anyhow::Result<()> {
        let Backend::Sled { db, kv, .. } = &self.backend else {
            return Ok(());
        };
        let version = match db.get(FORMAT_KEY)? {
            Some(v) => u64::from_be_bytes(
                v.as_ref()
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("the kv store's layout version is damaged"))?,
            ),
            None => 1,
        };
        if version > KV_FORMAT {
            anyhow::bail!(
                "the kv store has layout version {version}, newer than this psahost knows \
                 ({KV_FORMAT}): run the newer psahost that wrote it, or point `data-dir` elsewhere"
            );
        }
        if version == KV_FORMAT {
            return Ok(());
        }
        let old_trees = db
            .tree_names()
            .iter()
            .filter(|n| n.starts_with(b"kv/"))
            .count();
        if old_trees > 0 {
            // Seconds for thousands of connections, before the daemon is ready: say why.
            tracing::info!(
                trees = old_trees,
                "moving the kv store to layout {KV_FORMAT} (one shared tree), once"
            );
        }
        for name in db.tree_names() {
            let Some(connection) = name.strip_prefix(b"kv/") else {
                continue;
            };
            let connection = String::from_utf8_lossy(connection).into_owned();
            let old = db.open_tree(&name)?;
            let prefix = connection_prefix(&connection);
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in old.iter() {
                let (k, v) = item?;
                batch.insert(prefixed(&prefix, &k), v);
                n += 1;
                if n == MIGRATION_BATCH {
                    kv.apply_batch(std::mem::take(&mut batch))?;
                    n = 0;
                }
            }
            kv.apply_batch(batch)?;
            db.flush()?;
            db.drop_tree(&name)?;
        }
        db.insert(FORMAT_KEY, &KV_FORMAT.to_be_bytes()[..])?;
        db.flush()?;
        Ok(())
    }

    /// The namespaces in `backend` (a shared database).
    pub fn shared(backend: std::sync::Arc<dyn KvBackend>) -> Self {
        KvStore {
            backend: Backend::Shared(backend),
        }
    }

    /// The namespace of `connection`.
    pub fn namespace(&self, connection: &str, limits: KvLimits) -> anyhow::Result<KvNamespace> {
        let (kv, sizes) = match &self.backend {
            Backend::Sled { kv, sizes, .. } => (kv, sizes),
            Backend::Shared(backend) => {
                return Ok(KvNamespace {
                    place: Place::Shared {
                        backend: backend.clone(),
                        connection: connection.to_string(),
                    },
                    limits,
                });
            }
        };
        let cannot = || format!("cannot open the kv namespace of connection `{connection}`");
        let prefix = connection_prefix(connection);
        let id = connection.as_bytes().to_vec();
        if sizes.get(&id).with_context(cannot)?.is_none() {
            let used: u64 = kv
                .scan_prefix(&prefix)
                .map(|kv| kv.map(|(k, v)| (k.len() - prefix.len() + v.len()) as u64))
                .sum::<Result<u64, _>>()
                .with_context(cannot)?;
            sizes
                .compare_and_swap(&id, None as Option<&[u8]>, Some(&used.to_be_bytes()[..]))
                .with_context(cannot)?
                .ok(); // someone else measured it first: theirs counts
        }
        Ok(KvNamespace {
            place: Place::Sled {
                tree: kv.clone(),
                sizes: sizes.clone(),
                id,
                prefix,
            },
            limits,
        })
    }

    /// Flushes everything to disk (a shared database made each write durable already).
    pub async fn flush(&self) -> anyhow::Result<()> {
        if let Backend::Sled { db, .. } = &self.backend {
            db.flush_async()
                .await
                .context("cannot flush the kv store")?;
        }
        Ok(())
    }
}

/// One connection's keys.
#[derive(Clone)]
pub struct KvNamespace {
    place: Place,
    limits: KvLimits,
}

#[derive(Clone)]
enum Place {
    Sled {
        /// The shared `kv` tree.
        tree: sled::Tree,
        sizes: sled::Tree,
        /// The connection id (its key in `sizes`).
        id: Vec<u8>,
        /// The connection's prefix in `tree`.
        prefix: Vec<u8>,
    },
    Shared {
        backend: std::sync::Arc<dyn KvBackend>,
        connection: String,
    },
}

/// A shared backend's failure, as the guest sees it: the database's own text stays in the
/// host's log (a third party's code learns nothing of the operator's database).
fn shared(e: anyhow::Error) -> KvError {
    tracing::warn!("the shared kv store failed: {e:#}");
    KvError::Storage("the host's kv store is unavailable; try again later".into())
}

/// A connection's key prefix in the shared tree: the id's length (`u32` big endian), then its
/// bytes (the record store's layout, `psahost_store::SledStore`).
fn connection_prefix(connection: &str) -> Vec<u8> {
    let len = u32::try_from(connection.len()).expect("a connection id is shorter than 4 GiB");
    prefixed(&len.to_be_bytes(), connection.as_bytes())
}

fn prefixed(prefix: &[u8], key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + key.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(key);
    k
}

fn storage(e: sled::Error) -> KvError {
    KvError::Storage(e.to_string())
}

fn decode(size: Option<sled::IVec>) -> u64 {
    size.and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn transaction_error(e: sled::transaction::TransactionError<KvError>) -> KvError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => storage(e),
    }
}

impl KvNamespace {
    fn check_key(&self, key: &str) -> Result<(), KvError> {
        if key.len() > self.limits.max_key_bytes as usize {
            return Err(KvError::KeyTooLarge(self.limits.max_key_bytes));
        }
        Ok(())
    }

    /// The value of `key`.
    pub async fn get(&self, key: String) -> Result<Option<Vec<u8>>, KvError> {
        self.check_key(&key)?;
        let (tree, at) = match &self.place {
            Place::Sled { tree, prefix, .. } => (tree.clone(), prefixed(prefix, key.as_bytes())),
            Place::Shared {
                backend,
                connection,
            } => return backend.get(connection, &key).await.map_err(shared),
        };
        blocking(move || tree.get(at).map(|v| v.map(|v| v.to_vec())).map_err(storage)).await
    }

    /// Sets `key`, within the caps and the quota.
    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), KvError> {
        self.check_key(&key)?;
        if value.len() > self.limits.max_value_bytes as usize {
            return Err(KvError::ValueTooLarge(self.limits.max_value_bytes));
        }
        let quota = self.limits.quota_bytes;
        let (tree, sizes, id, at) = match &self.place {
            Place::Sled {
                tree,
                sizes,
                id,
                prefix,
            } => (
                tree.clone(),
                sizes.clone(),
                id.clone(),
                prefixed(prefix, key.as_bytes()),
            ),
            Place::Shared {
                backend,
                connection,
            } => {
                return match backend.set(connection, &key, &value, quota).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(KvError::QuotaExceeded(quota)),
                    Err(e) => Err(shared(e)),
                };
            }
        };
        blocking(move || {
            use sled::Transactional;
            use sled::transaction::ConflictableTransactionError::Abort;
            (&tree, &sizes)
                .transaction(|(tree, sizes)| {
                    let old_len = tree
                        .get(at.as_slice())?
                        .map(|v| key.len() + v.len())
                        .unwrap_or(0) as u64;
                    let new_len = (key.len() + value.len()) as u64;
                    let used = decode(sizes.get(&id)?);
                    let after = used.saturating_sub(old_len) + new_len;
                    if new_len > old_len && after > quota {
                        return Err(Abort(KvError::QuotaExceeded(quota)));
                    }
                    tree.insert(at.as_slice(), value.as_slice())?;
                    sizes.insert(id.as_slice(), &after.to_be_bytes())?;
                    Ok(())
                })
                .map_err(transaction_error)
        })
        .await
    }

    /// Removes `key`.
    pub async fn delete(&self, key: String) -> Result<(), KvError> {
        self.check_key(&key)?;
        let (tree, sizes, id, at) = match &self.place {
            Place::Sled {
                tree,
                sizes,
                id,
                prefix,
            } => (
                tree.clone(),
                sizes.clone(),
                id.clone(),
                prefixed(prefix, key.as_bytes()),
            ),
            Place::Shared {
                backend,
                connection,
            } => return backend.delete(connection, &key).await.map_err(shared),
        };
        blocking(move || {
            use sled::Transactional;
            (&tree, &sizes)
                .transaction(|(tree, sizes)| {
                    if let Some(old) = tree.remove(at.as_slice())? {
                        let used = decode(sizes.get(&id)?);
                        let after = used.saturating_sub((key.len() + old.len()) as u64);
                        sizes.insert(id.as_slice(), &after.to_be_bytes())?;
                    }
                    Ok(())
                })
                .map_err(transaction_error)
        })
        .await
    }

    /// Bytes of keys and values the namespace holds (the counter the quota is checked against).
    pub async fn used_bytes(&self) -> Result<u64, KvError> {
        let (sizes, id) = match &self.place {
            Place::Sled { sizes, id, .. } => (sizes.clone(), id.clone()),
            Place::Shared {
                backend,
                connection,
            } => return backend.used_bytes(connection).await.map_err(shared),
        };
        blocking(move || sizes.get(&id).map(decode).map_err(storage)).await
    }

    /// The keys starting with `prefix`.
    pub async fn list_keys(&self, prefix: String) -> Result<Vec<String>, KvError> {
        let (tree, skip, start) = match &self.place {
            Place::Sled {
                tree,
                prefix: connection,
                ..
            } => (
                tree.clone(),
                connection.len(),
                prefixed(connection, prefix.as_bytes()),
            ),
            Place::Shared {
                backend,
                connection,
            } => return backend.list_keys(connection, &prefix).await.map_err(shared),
        };
        blocking(move || {
            tree.scan_prefix(start)
                .keys()
                .map(|k| {
                    k.map(|k| String::from_utf8_lossy(&k[skip..]).into_owned())
                        .map_err(storage)
                })
                .collect()
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KvError> + Send + 'static,
) -> Result<T, KvError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(KvError::Storage(format!("kv task failed: {e}"))))
}

fn no_connection() -> KvError {
    KvError::Storage("kv is only available to a connection's calls".into())
}

impl Host for CallState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, KvError> {
        match self.connection() {
            Some(c) => c.kv.get(key).await,
            None => Err(no_connection()),
        }
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), KvError> {
        match self.connection() {
            Some(c) => c.kv.set(key, value).await,
            None => Err(no_connection()),
        }
    }

    async fn delete(&mut self, key: String) -> Result<(), KvError> {
        match self.connection() {
            Some(c) => c.kv.delete(key).await,
            None => Err(no_connection()),
        }
    }

    async fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, KvError> {
        match self.connection() {
            Some(c) => c.kv.list_keys(prefix).await,
            None => Err(no_connection()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(store: &KvStore, name: &str) -> KvNamespace {
        let limits = KvLimits {
            max_key_bytes: 8,
            max_value_bytes: 16,
            quota_bytes: 40,
        };
        store.namespace(name, limits).unwrap()
    }

    #[tokio::test]
    async fn namespaces_are_isolated() {
        let store = KvStore::temporary().unwrap();
        let (a, b) = (ns(&store, "a"), ns(&store, "b"));
        a.set("k".into(), b"va".to_vec()).await.unwrap();
        assert_eq!(b.get("k".into()).await.unwrap(), None);
        assert_eq!(a.get("k".into()).await.unwrap(), Some(b"va".to_vec()));
        assert_eq!(
            b.list_keys(String::new()).await.unwrap(),
            Vec::<String>::new()
        );
    }

    #[tokio::test]
    async fn namespaces_whose_ids_are_prefixes_of_each_other_are_isolated() {
        let store = KvStore::temporary().unwrap();
        let names = ["a", "ab", "a/b", "b"];
        for name in names {
            let n = ns(&store, name);
            n.set("k".into(), name.as_bytes().to_vec()).await.unwrap();
            n.set(format!("k{name}"), vec![1]).await.unwrap();
        }
        for name in names {
            let n = ns(&store, name);
            assert_eq!(
                n.get("k".into()).await.unwrap(),
                Some(name.as_bytes().to_vec())
            );
            assert_eq!(
                n.list_keys(String::new()).await.unwrap(),
                vec!["k".to_string(), format!("k{name}")],
                "namespace `{name}` lists its keys only"
            );
            assert_eq!(
                n.list_keys("ka".into()).await.unwrap().len(),
                usize::from(name.starts_with('a'))
            );
            assert_eq!(n.used_bytes().await.unwrap(), (3 + 2 * name.len()) as u64);
        }
        ns(&store, "a").delete("k".into()).await.unwrap();
        assert_eq!(
            ns(&store, "ab").get("k".into()).await.unwrap(),
            Some(b"ab".to_vec())
        );
    }

    #[tokio::test]
    async fn caps_and_quota() {
        let store = KvStore::temporary().unwrap();
        let a = ns(&store, "a");
        assert_eq!(
            a.set("123456789".into(), vec![]).await,
            Err(KvError::KeyTooLarge(8))
        );
        assert_eq!(
            a.set("k".into(), vec![0; 17]).await,
            Err(KvError::ValueTooLarge(16))
        );
        a.set("k1".into(), vec![0; 16]).await.unwrap();
        a.set("k2".into(), vec![0; 16]).await.unwrap();
        assert_eq!(
            a.set("k3".into(), vec![0; 16]).await,
            Err(KvError::QuotaExceeded(40))
        );
        // Overwriting with a value of the same size stays within the quota.
        a.set("k2".into(), vec![1; 16]).await.unwrap();
        a.delete("k1".into()).await.unwrap();
        a.set("k3".into(), vec![0; 16]).await.unwrap();
        assert_eq!(a.list_keys("k".into()).await.unwrap(), vec!["k2", "k3"]);
    }

    #[tokio::test]
    async fn the_quota_is_checked_against_a_counter_kept_with_each_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = KvStore::open(dir.path()).unwrap();
        let a = ns(&store, "a");
        assert_eq!(a.used_bytes().await.unwrap(), 0);
        a.set("k1".into(), vec![0; 10]).await.unwrap();
        a.set("k2".into(), vec![0; 4]).await.unwrap();
        assert_eq!(a.used_bytes().await.unwrap(), 12 + 6);
        a.set("k1".into(), vec![0; 2]).await.unwrap(); // shrinks
        assert_eq!(a.used_bytes().await.unwrap(), 4 + 6);
        a.delete("k2".into()).await.unwrap();
        a.delete("missing".into()).await.unwrap();
        assert_eq!(a.used_bytes().await.unwrap(), 4);
        // The counter is what is checked: the namespace is not scanned per write.
        let Place::Sled { tree, prefix, .. } = &a.place else {
            unreachable!("a sled store")
        };
        tree.insert(prefixed(prefix, b"hidden"), vec![0; 30])
            .unwrap();
        a.set("k3".into(), vec![0; 16]).await.unwrap();
        assert_eq!(a.used_bytes().await.unwrap(), 4 + 18);
        // A namespace without a counter (written before it existed) is measured once at open.
        drop(a);
        let Backend::Sled { sizes, .. } = &store.backend else {
            unreachable!("a sled store")
        };
        sizes.remove("a").unwrap();
        let a = ns(&store, "a");
        assert_eq!(a.used_bytes().await.unwrap(), 4 + 18 + 36);
        assert_eq!(
            a.set("k4".into(), vec![0; 1]).await,
            Err(KvError::QuotaExceeded(40))
        );
        // Another connection has its own count.
        assert_eq!(ns(&store, "b").used_bytes().await.unwrap(), 0);
    }

    /// A kv store of layout 1 (a tree `kv/<connection id>` per connection, the guest's keys
    /// as they are, `kv-sizes` by connection id), written with raw sled calls as the old code
    /// wrote it, opens with every namespace in the shared tree.
    #[tokio::test]
    async fn a_store_of_the_old_layout_is_migrated_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            let a = db.open_tree("kv/a").unwrap();
            a.insert("token", b"t-a".to_vec()).unwrap();
            a.insert("cursor", b"12".to_vec()).unwrap();
            let ab = db.open_tree("kv/ab").unwrap();
            ab.insert("token", b"t-ab".to_vec()).unwrap();
            // `a` has its counter; `ab` is from before the counter.
            db.open_tree("kv-sizes")
                .unwrap()
                .insert("a", &(5u64 + 3 + 6 + 2).to_be_bytes()[..])
                .unwrap();
            // An interrupted migration: part of `kv/ab` moved already, its tree not dropped.
            db.open_tree("kv")
                .unwrap()
                .insert(
                    prefixed(&connection_prefix("ab"), b"token"),
                    b"t-ab".to_vec(),
                )
                .unwrap();
            db.flush().unwrap();
        }
        let store = KvStore::open(dir.path()).unwrap();
        let (a, ab) = (ns(&store, "a"), ns(&store, "ab"));
        assert_eq!(a.get("token".into()).await.unwrap(), Some(b"t-a".to_vec()));
        assert_eq!(
            a.list_keys(String::new()).await.unwrap(),
            vec!["cursor", "token"]
        );
        assert_eq!(a.used_bytes().await.unwrap(), 16);
        assert_eq!(ab.list_keys(String::new()).await.unwrap(), vec!["token"]);
        assert_eq!(
            ab.get("token".into()).await.unwrap(),
            Some(b"t-ab".to_vec())
        );
        assert_eq!(ab.used_bytes().await.unwrap(), 5 + 4);
        // The limits hold on the migrated namespace: 16 + 2 + 16 > 40 is refused.
        a.set("k".into(), vec![0; 15]).await.unwrap();
        assert_eq!(
            a.set("k2".into(), vec![0; 16]).await,
            Err(KvError::QuotaExceeded(40))
        );
        let Backend::Sled { db, .. } = &store.backend else {
            unreachable!("a sled store")
        };
        assert!(
            db.tree_names().iter().all(|n| !n.starts_with(b"kv/")),
            "the old trees are dropped"
        );
        assert_eq!(
            db.get(FORMAT_KEY).unwrap().as_deref(),
            Some(&KV_FORMAT.to_be_bytes()[..])
        );
        drop((a, ab, store));
        // Opened again: nothing to move, everything kept.
        let store = KvStore::open(dir.path()).unwrap();
        assert_eq!(
            ns(&store, "a").list_keys(String::new()).await.unwrap(),
            vec!["cursor", "k", "token"]
        );
        let Backend::Sled { db, .. } = &store.backend else {
            unreachable!("a sled store")
        };
        // A store of a newer layout is refused, naming its directory.
        db.insert(FORMAT_KEY, &(KV_FORMAT + 1).to_be_bytes()[..])
            .unwrap();
        db.flush().unwrap();
        drop(store);
        let e = KvStore::open(dir.path())
            .err()
            .expect("a newer layout is refused");
        let text = format!("{e:#}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(
            text.contains("layout version 3, newer than this psahost knows (2)"),
            "{text}"
        );
    }
}
