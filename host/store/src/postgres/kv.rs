//! The connectors' kv namespaces in PostgreSQL (`kv`, `kv_sizes`; migration 7), for the
//! replicas of a cluster: whichever replica owns a connection finds what its connector saved.
//! The sandbox's `kv` capability checks the key and value caps; here each write keeps the
//! namespace's byte count and checks the quota in one transaction. kv writes are not fenced by
//! leases: any replica may call a connection's connector (a picklist read), and what a
//! connector saves must be valid on its own (a token, a cached base URL).

use super::PgStore;
use anyhow::Context;

impl PgStore {
    /// The value of `key` in the kv namespace of `connection`.
    pub async fn kv_get(&self, connection: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT value FROM kv WHERE connection = $1 AND key = $2")
            .await?;
        let row = client
            .query_opt(&st, &[&connection, &key])
            .await
            .with_context(|| format!("cannot read the kv of connection `{connection}`"))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Sets `key` unless the namespace would then hold more than `quota` bytes of keys and
    /// values and the write grows it; false when the quota refused it.
    pub async fn kv_set(
        &self,
        connection: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> anyhow::Result<bool> {
        let cannot = || format!("cannot write the kv of connection `{connection}`");
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Locks the namespace's counter: its writes are serialised.
        let used: i64 = tx
            .query_one(
                &tx.prepare_cached(
                    "INSERT INTO kv_sizes (connection) VALUES ($1)
                     ON CONFLICT (connection) DO UPDATE SET used = kv_sizes.used
                     RETURNING used",
                )
                .await?,
                &[&connection],
            )
            .await
            .with_context(cannot)?
            .get(0);
        let old: Option<i32> = tx
            .query_opt(
                &tx.prepare_cached(
                    "SELECT octet_length(value) FROM kv WHERE connection = $1 AND key = $2",
                )
                .await?,
                &[&connection, &key],
            )
            .await
            .with_context(cannot)?
            .map(|r| r.get(0));
        let old_len = old.map_or(0, |v| key.len() as u64 + v as u64);
        let new_len = (key.len() + value.len()) as u64;
        let after = (used as u64).saturating_sub(old_len) + new_len;
        if new_len > old_len && after > quota {
            return Ok(false);
        }
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO kv (connection, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (connection, key) DO UPDATE SET value = EXCLUDED.value",
            )
            .await?,
            &[&connection, &key, &value],
        )
        .await
        .with_context(cannot)?;
        tx.execute(
            &tx.prepare_cached("UPDATE kv_sizes SET used = $2 WHERE connection = $1")
                .await?,
            &[&connection, &(after as i64)],
        )
        .await
        .with_context(cannot)?;
        tx.commit().await.with_context(cannot)?;
        Ok(true)
    }

    /// Removes `key` from the kv namespace of `connection`.
    pub async fn kv_delete(&self, connection: &str, key: &str) -> anyhow::Result<()> {
        let cannot = || format!("cannot write the kv of connection `{connection}`");
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO kv_sizes (connection) VALUES ($1)
                 ON CONFLICT (connection) DO UPDATE SET used = kv_sizes.used",
            )
            .await?,
            &[&connection],
        )
        .await
        .with_context(cannot)?;
        tx.execute(
            &tx.prepare_cached(
                "WITH gone AS (
                     DELETE FROM kv WHERE connection = $1 AND key = $2
                     RETURNING octet_length(key) + octet_length(value) AS bytes
                 )
                 UPDATE kv_sizes SET used = greatest(used - coalesce((SELECT bytes FROM gone), 0), 0)
                 WHERE connection = $1",
            )
            .await?,
            &[&connection, &key],
        )
        .await
        .with_context(cannot)?;
        tx.commit().await.with_context(cannot)?;
        Ok(())
    }

    /// Bytes of keys and values in the kv namespace of `connection`.
    pub async fn kv_used_bytes(&self, connection: &str) -> anyhow::Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT used FROM kv_sizes WHERE connection = $1")
            .await?;
        let row = client
            .query_opt(&st, &[&connection])
            .await
            .with_context(|| format!("cannot read the kv of connection `{connection}`"))?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    /// The keys of the kv namespace of `connection` starting with `prefix`, in byte order.
    pub async fn kv_keys(&self, connection: &str, prefix: &str) -> anyhow::Result<Vec<String>> {
        let client = self.client().await?;
        // `starts_with` rather than LIKE: a prefix may hold `%` or `_`.
        let st = client
            .prepare_cached(
                "SELECT key FROM kv WHERE connection = $1 AND starts_with(key, $2) ORDER BY key",
            )
            .await?;
        let rows = client
            .query(&st, &[&connection, &prefix])
            .await
            .with_context(|| format!("cannot read the kv of connection `{connection}`"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
