//! `SledStore`: the conformance suite, each test in its own directory.

use psahost_store::conformance::StoreFactory;
use psahost_store::{RecordStore, SledStore, StoreFuture};
use std::sync::Arc;

/// A sled store in a temporary directory (reopened in place).
pub struct SledFactory {
    dir: tempfile::TempDir,
}

impl SledFactory {
    pub fn new() -> SledFactory {
        SledFactory {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }
}

impl StoreFactory for SledFactory {
    fn open(&self) -> StoreFuture<'_, Arc<dyn RecordStore>> {
        Box::pin(async move {
            let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(self.dir.path())?);
            Ok(store)
        })
    }
}

psahost_store::store_conformance_tests!(SledFactory::new());

#[tokio::test]
async fn a_temporary_store_works_and_starts_empty() {
    let s = SledStore::temporary().unwrap();
    assert!(s.changes("acme", 0, 10).await.unwrap().is_empty());
    assert_eq!(s.next_run_id().await.unwrap(), 1);
}
