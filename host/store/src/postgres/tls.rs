//! TLS to PostgreSQL (rustls, through `tokio-postgres-rustls`).
//!
//! The connection string's `sslmode` decides: `require` encrypts the connection and verifies the
//! server, like libpq's `verify-full`: its certificate must chain to a trusted root and name the
//! host the connection string gives (a name or an IP address). The trusted roots are the
//! certificates of `[store] ca-file` when it is set (a private CA, a cloud provider's bundle),
//! otherwise the Mozilla roots compiled into psahost (`webpki-roots`). `disable` and `prefer`
//! (libpq's default) connect without TLS: an encryption that verifies nothing would only look
//! safe, so psahost offers none.

use anyhow::{Context, anyhow, bail};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A CA file larger than this is not a certificate bundle (the Mozilla bundle is about 220 KB).
const MAX_CA_FILE: u64 = 4 << 20;

/// Reads the PEM certificates of `path` (at least one; nothing else but comments around them).
pub fn read_ca_file(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).with_context(|| {
        format!("cannot read the CA file `{shown}`; give the path of a PEM file of CA certificates")
    })?;
    if meta.len() > MAX_CA_FILE {
        bail!(
            "the CA file `{shown}` has {} bytes, more than a certificate bundle ({MAX_CA_FILE}); give a PEM file of CA certificates",
            meta.len()
        );
    }
    let pem = std::fs::read(path).with_context(|| format!("cannot read the CA file `{shown}`"))?;
    let mut certs = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        certs.push(cert.map_err(|e| {
            anyhow!(
                "the CA file `{shown}`: certificate {} is not valid PEM ({e}); give a PEM file of CA certificates",
                i + 1
            )
        })?);
    }
    if certs.is_empty() {
        bail!(
            "the CA file `{shown}` holds no certificate (expected `-----BEGIN CERTIFICATE-----` blocks)"
        );
    }
    // Each must parse as a trust anchor, or every connection would fail later with a vaguer error.
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        roots.add(cert.clone()).map_err(|e| {
            anyhow!(
                "the CA file `{shown}`: certificate {} cannot be a trusted root ({e})",
                i + 1
            )
        })?;
    }
    Ok(certs)
}

/// The TLS connector of `sslmode=require`: roots from `ca_file`, else the compiled-in ones.
pub(crate) fn connector(ca_file: Option<&Path>) -> anyhow::Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in read_ca_file(path)? {
                roots
                    .add(cert)
                    .map_err(|e| anyhow!("the CA file `{}`: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    // The provider is named, not taken from the process default: which default a build gets
    // depends on the features every other crate turns on.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("cannot set up TLS for PostgreSQL")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A hint for a connection error caused by the server's certificate.
pub(crate) fn hint(error: &str) -> &'static str {
    if error.contains("certificate") || error.contains("Certificate") {
        "; the server's certificate must chain to a root of `[store] ca-file` (or, without it, a public CA) and name the host of the connection string"
    } else if error.contains("server does not support TLS") {
        "; the server has TLS off: turn `ssl` on in its postgresql.conf, or drop `sslmode=require` from the connection string"
    } else {
        ""
    }
}
