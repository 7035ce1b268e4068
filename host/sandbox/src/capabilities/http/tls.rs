//! The TLS configuration of the connections' HTTP clients.
//!
//! Every connection has a client of its own (its own pool of PSA connections, its own resolver
//! policy). Left to itself, each client also built its own copy of the web PKI's roots and a
//! session cache sized for a browser: about 23 KB a connection before its first request
//! (heaptrack, 1,000 connections). The roots and the verifier are immutable, so they are built
//! once and shared; the resumption cache stays each connection's own, so no session crosses
//! from one tenant to another, and small: a connection talks to one PSA and perhaps its
//! login or zone-lookup host.

use rustls::ClientConfig;
use rustls::client::Resumption;
use std::sync::{Arc, OnceLock};

/// TLS sessions a connection keeps for resumption (one or a few hosts per connection).
const SESSIONS_PER_CONNECTION: usize = 8;

/// A connection's TLS configuration: the shared verifier over the web PKI's roots, and a
/// resumption cache of its own.
pub(super) fn connection_config() -> anyhow::Result<ClientConfig> {
    static SHARED: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
    let shared = SHARED
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            config_with_roots(roots).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("cannot build the TLS configuration: {e}"))?;
    Ok(with_own_sessions(shared.clone()))
}

/// What reqwest would build for `roots` (the ring provider, TLS 1.2 and 1.3, ALPN for HTTP/2
/// and HTTP/1.1), without the per-client session cache.
fn config_with_roots(roots: rustls::RootCertStore) -> anyhow::Result<ClientConfig> {
    // The provider is named, not taken from the process default: which default a build gets
    // depends on the features every crate in the graph turns on.
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn with_own_sessions(mut config: ClientConfig) -> ClientConfig {
    config.resumption = Resumption::in_memory_sessions(SESSIONS_PER_CONNECTION);
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A TLS server on loopback with a certificate for `127.0.0.1` from a CA made here; it
    /// answers every request with `200 tls ok` and reports the protocol ALPN chose.
    async fn server() -> (
        u16,
        rustls::RootCertStore,
        tokio::sync::mpsc::Receiver<String>,
    ) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone()).unwrap();

        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (alpn_tx, alpn_rx) = tokio::sync::mpsc::channel(8);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let alpn = tls.get_ref().1.alpn_protocol().map(|p| p.to_vec());
                let _ = alpn_tx
                    .send(String::from_utf8_lossy(&alpn.unwrap_or_default()).into_owned())
                    .await;
                let mut request = vec![0u8; 4096];
                let _ = tls.read(&mut request).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ntls ok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            }
        });
        (port, roots, alpn_rx)
    }

    fn client(tls: ClientConfig) -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .use_preconfigured_tls(tls)
            .build()
            .unwrap()
    }

    /// The configuration handed to reqwest makes a working HTTPS client: the certificate is
    /// verified against the roots, and ALPN is offered as reqwest offers it.
    #[tokio::test]
    async fn a_client_on_the_configuration_speaks_https() {
        let (port, roots, mut alpn) = server().await;
        let config = with_own_sessions(config_with_roots(roots).unwrap());
        let answer = client(config)
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.text().await.unwrap(), "tls ok");
        assert_eq!(alpn.recv().await.unwrap(), "http/1.1");
    }

    /// The connections' configuration trusts the web PKI only: a certificate from any other CA
    /// is refused during the handshake, before a request is sent.
    #[tokio::test]
    async fn a_certificate_outside_the_web_pki_is_refused() {
        let (port, _, _) = server().await;
        let error = client(connection_config().unwrap())
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        let chain = format!("{:?}", anyhow::Error::from(error));
        assert!(chain.contains("UnknownIssuer"), "{chain}");
    }
}
