//! TLS to PostgreSQL: a server of its own with TLS on (a certificate from a CA made here),
//! then `sslmode=require` with the right CA, the public roots, another CA and another host name.

use psahost_store::{Entity, PageCommit, PgOptions, PgStore, RecordStore, RecordWrite};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::json;
use std::path::PathBuf;

/// A CA: its certificate (PEM) and what signs with it.
fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn error_of(url: &str, ca_file: Option<PathBuf>) -> String {
    let options = PgOptions {
        ca_file,
        max_connections: 1,
        ..PgOptions::default()
    };
    format!("{:#}", PgStore::connect(url, options).await.unwrap_err())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_verifies_the_server_and_encrypts() {
    let (ca_pem, issuer) = ca("psahost test CA");
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
    let server = tokio::task::spawn_blocking(move || {
        let server = psahost_pgtest::Instance::create().unwrap();
        let port = server.start_tls(&cert_pem, &key_pem).unwrap();
        (server, port)
    })
    .await
    .unwrap();
    let (server, port) = server;
    let files = tempfile::tempdir().unwrap();
    let ca_file = write(&files, "ca.pem", &ca_pem);
    // The password is never checked (trust), only looked for in the messages.
    let url = |host: &str, mode: &str| {
        format!("postgresql://postgres:hunter2@{host}:{port}/postgres?sslmode={mode}")
    };

    // The right CA: connected, encrypted, and the store works.
    let store = PgStore::connect(
        &url("127.0.0.1", "require"),
        PgOptions {
            ca_file: Some(ca_file.clone()),
            schema: Some("tls_test".into()),
            max_connections: 2,
        },
    )
    .await
    .unwrap();
    store
        .commit(PageCommit {
            connection: "acme".into(),
            entity: Entity::Companies,
            upserts: vec![RecordWrite::new("1", &json!({"name": "Acme"}))],
            deletions: vec![],
            mark_seen: false,
            checkpoint: None,
        })
        .await
        .unwrap();
    assert_eq!(store.count("acme", Entity::Companies).await.unwrap(), 1);
    // Asked of the server over its unix socket: psahost's sessions, with and without TLS.
    let (admin, conn) = tokio_postgres::connect(
        &format!("{} port={port}", server.url()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'psahost'",
            &[],
        )
        .await
        .unwrap();
    let (tls, plain): (i64, i64) = (row.get(0), row.get(1));
    assert!(tls >= 1 && plain == 0, "tls {tls}, plain {plain}");
    drop(store);

    // No CA file: the public roots do not know this CA.
    let e = error_of(&url("127.0.0.1", "require"), None).await;
    assert!(
        e.contains("certificate") && e.contains("ca-file") && !e.contains("hunter2"),
        "{e}"
    );
    // Another CA.
    let (other_pem, _) = ca("another CA");
    let other = write(&files, "other.pem", &other_pem);
    let e = error_of(&url("127.0.0.1", "require"), Some(other)).await;
    assert!(e.contains("certificate") && !e.contains("hunter2"), "{e}");
    // The right CA, but a host name the certificate does not give.
    let e = error_of(&url("localhost", "require"), Some(ca_file.clone())).await;
    assert!(e.contains("certificate") && !e.contains("hunter2"), "{e}");

    // A CA file without TLS, and a file that is no CA bundle: refused before connecting.
    let e = error_of(&url("127.0.0.1", "prefer"), Some(ca_file.clone())).await;
    assert!(e.contains("sslmode=require"), "{e}");
    let junk = write(&files, "junk.pem", "not a certificate\n");
    let e = error_of(&url("127.0.0.1", "require"), Some(junk)).await;
    assert!(
        e.contains("junk.pem") && e.contains("no certificate"),
        "{e}"
    );
    let missing = files.path().join("missing.pem");
    let e = error_of(&url("127.0.0.1", "require"), Some(missing)).await;
    assert!(
        e.contains("missing.pem") && e.contains("cannot read"),
        "{e}"
    );

    tokio::task::spawn_blocking(move || server.stop().unwrap())
        .await
        .unwrap();
}
