//! `whisper gen-cert`: a self-signed development certificate and key, so HTTPS and WSS
//! work locally without OpenSSL. Never for production: nothing trusts it but you.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The file names written into the output directory.
pub const CERT_FILE: &str = "cert.pem";
/// The private key's file name (mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// The names a development certificate covers when none is given.
pub const DEFAULT_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Where [`generate`] wrote the certificate and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenCertificate {
    /// The PEM certificate (`WHISPER_TLS_CERT`).
    pub cert: PathBuf,
    /// The PEM PKCS#8 private key (`WHISPER_TLS_KEY`).
    pub key: PathBuf,
}

impl WrittenCertificate {
    /// The two variables that make `whisper serve` use these files, one per line.
    pub fn variables(&self) -> String {
        format!(
            "WHISPER_TLS_CERT={}\nWHISPER_TLS_KEY={}",
            self.cert.display(),
            self.key.display()
        )
    }
}

/// Writes a self-signed certificate for `hosts` (DNS names or IP addresses; empty: the
/// [`DEFAULT_HOSTS`]) and its key into `out`, creating the directory. Existing files are
/// refused unless `force`, so a certificate someone already trusts is not replaced by
/// accident.
pub fn generate(out: &Path, hosts: &[String], force: bool) -> anyhow::Result<WrittenCertificate> {
    let hosts: Vec<String> = if hosts.is_empty() {
        DEFAULT_HOSTS.iter().map(|h| (*h).to_owned()).collect()
    } else {
        hosts.to_vec()
    };
    let cert_path = out.join(CERT_FILE);
    let key_path = out.join(KEY_FILE);
    if !force {
        for path in [&cert_path, &key_path] {
            if path.exists() {
                anyhow::bail!(
                    "{} already exists; pass --force to replace it (or --out another directory)",
                    path.display()
                );
            }
        }
    }
    let certified = rcgen::generate_simple_self_signed(hosts.clone())
        .with_context(|| format!("--host: cannot make a certificate for {hosts:?}"))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // The key first and private from its creation: no moment where others can read it.
    write_file(&key_path, &certified.signing_key.serialize_pem(), 0o600)?;
    write_file(&cert_path, &certified.cert.pem(), 0o644)?;
    Ok(WrittenCertificate {
        cert: absolute(&cert_path)?,
        key: absolute(&key_path)?,
    })
}

fn write_file(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // `mode` applies only to a new file; a replaced one (--force) gets it here.
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| file.write_all(contents.as_bytes()))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The variables are meant to be pasted anywhere, so the paths must not depend on the
/// directory `gen-cert` ran in.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "whisper-gen-cert-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_a_private_key_and_a_certificate_and_refuses_to_overwrite_them() {
        let dir = temp_dir();
        let out = dir.join("tls");
        let written = generate(&out, &[], false).unwrap();
        assert!(
            std::fs::read_to_string(&written.cert)
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
        assert!(
            std::fs::read_to_string(&written.key)
                .unwrap()
                .contains("PRIVATE KEY")
        );
        let mode = std::fs::metadata(&written.key)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let error = generate(&out, &[], false).unwrap_err().to_string();
        assert!(error.contains("--force"), "{error}");
        let replaced = generate(&out, &["chat.test".to_owned()], true).unwrap();
        assert_eq!(replaced, written);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_host_that_is_no_name_is_refused() {
        let dir = temp_dir();
        let error = generate(&dir, &["caf\u{e9}.test".to_owned()], false).unwrap_err();
        assert!(error.to_string().contains("--host"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
