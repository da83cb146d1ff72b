//! HTTPS: a rustls server configuration from PEM files, with the ring provider only.

use std::sync::Arc;

use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::settings::TlsSettings;

/// A server configuration serving the certificate chain and key of `paths`.
pub fn server_config(paths: &TlsSettings) -> anyhow::Result<ServerConfig> {
    let certs = CertificateDer::pem_file_iter(&paths.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow::anyhow!(
                "WHISPER_TLS_CERT: cannot read {}: {e}",
                paths.cert.display()
            )
        })?;
    if certs.is_empty() {
        anyhow::bail!(
            "WHISPER_TLS_CERT: no certificate in {}",
            paths.cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(&paths.key).map_err(|e| {
        anyhow::anyhow!(
            "WHISPER_TLS_KEY: cannot read a private key from {}: {e}",
            paths.key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("WHISPER_TLS_CERT / WHISPER_TLS_KEY: the key does not match the certificate")
}
