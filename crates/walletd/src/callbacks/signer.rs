//! The key that signs callbacks: RSA PKCS#1 v1.5 with SHA-256 over the exact `event` bytes, made
//! with `aws-lc-rs` (constant-time; the `rsa` crate is not, RUSTSEC-2023-0071). Generated on first
//! start and kept in the database, or read from a PEM file.

use anyhow::Context as _;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::Path;
use wallet_store::Store;

/// Setting that holds the generated signing key (PKCS#8 DER, base64).
pub const SIGNING_KEY_SETTING: &str = "callback_signing_key_pkcs8_b64";
/// The signing key pair of callbacks. `Debug` shows only the public key.
pub struct CallbackSigner {
    key: KeyPair,
    public_key_pem: String,
}

impl std::fmt::Debug for CallbackSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSigner")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

impl CallbackSigner {
    /// The key of `pem_file` when given (a `PRIVATE KEY` or `RSA PRIVATE KEY` PEM), else the one
    /// stored in the database, generated and stored on first start. Concurrent first starts agree:
    /// the first stored key wins and every instance uses it.
    pub async fn load(store: &Store, pem_file: Option<&Path>) -> anyhow::Result<CallbackSigner> {
        if let Some(path) = pem_file {
            let text = tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("reading the callback key {}", path.display()))?;
            return CallbackSigner::from_pem(&text)
                .with_context(|| format!("callback key {}", path.display()));
        }
        let mut tx = store.read().await?;
        let stored = tx.setting(SIGNING_KEY_SETTING).await?;
        drop(tx);
        let b64 = match stored {
            Some(v) => v,
            None => {
                // Generated outside the write transaction: RSA key generation takes a moment, and
                // on SQLite the writer lock would stop every other write meanwhile.
                let fresh = tokio::task::spawn_blocking(generate_pkcs8).await??;
                let mut tx = store.write().await?;
                let v = tx
                    .setting_or_insert(SIGNING_KEY_SETTING, &B64.encode(fresh))
                    .await?;
                tx.commit().await?;
                tracing::info!("generated the callback signing key");
                v
            }
        };
        let der = B64
            .decode(b64.trim())
            .context("stored callback key is not base64")?;
        CallbackSigner::from_pkcs8(&der)
    }

    /// A key pair from PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> anyhow::Result<CallbackSigner> {
        let key = KeyPair::from_pkcs8(der)
            .map_err(|e| anyhow::anyhow!("not an RSA PKCS#8 private key: {e}"))?;
        CallbackSigner::new(key)
    }

    /// A key pair from PEM text: `-----BEGIN PRIVATE KEY-----` (PKCS#8, what `openssl genpkey`
    /// writes) or `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1, older `openssl genrsa`).
    pub fn from_pem(text: &str) -> anyhow::Result<CallbackSigner> {
        if let Some(der) = pem_block(text, "PRIVATE KEY") {
            return CallbackSigner::from_pkcs8(&der?);
        }
        if let Some(der) = pem_block(text, "RSA PRIVATE KEY") {
            let key = KeyPair::from_der(&der?)
                .map_err(|e| anyhow::anyhow!("not an RSA private key: {e}"))?;
            return CallbackSigner::new(key);
        }
        anyhow::bail!("no PRIVATE KEY or RSA PRIVATE KEY block in the PEM text")
    }

    fn new(key: KeyPair) -> anyhow::Result<CallbackSigner> {
        if key.public_modulus_len() < 256 {
            anyhow::bail!("the callback key must have at least 2048 bits");
        }
        let spki = AsDer::<PublicKeyX509Der>::as_der(key.public_key())
            .map_err(|_| anyhow::anyhow!("cannot encode the callback public key"))?;
        let public_key_pem = pem_encode("PUBLIC KEY", spki.as_ref());
        Ok(CallbackSigner {
            key,
            public_key_pem,
        })
    }

    /// The public key as `GET /publickey` serves it (SubjectPublicKeyInfo PEM).
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// `sign`: base64 of the RSA PKCS#1 v1.5 SHA-256 signature of `event`'s bytes.
    pub fn sign(&self, event: &str) -> anyhow::Result<String> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                event.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("signing the callback failed"))?;
        Ok(B64.encode(signature))
    }
}

/// A fresh RSA 2048 key, PKCS#8 DER.
fn generate_pkcs8() -> anyhow::Result<Vec<u8>> {
    let key = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("generating the callback key failed"))?;
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key)
        .map_err(|_| anyhow::anyhow!("encoding the callback key failed"))?;
    Ok(der.as_ref().to_vec())
}

/// The DER inside the first `-----BEGIN {label}-----` block, if there is one.
fn pem_block(text: &str, label: &str) -> Option<anyhow::Result<Vec<u8>>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let Some(len) = text[start..].find(&end) else {
        return Some(Err(anyhow::anyhow!("{begin} without {end}")));
    };
    let body: String = text[start..start + len]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Some(B64.decode(body).context("the PEM body is not base64"))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_sdk_and_pem_keys_load() {
        let der = generate_pkcs8().unwrap();
        let signer = CallbackSigner::from_pkcs8(&der).unwrap();
        let event = r#"{"type":"failed","object":"transaction","data":{"transaction_key":"k"}}"#;
        let sign = signer.sign(event).unwrap();
        let verified =
            wallet_client::callback::verify_callback(event, &sign, signer.public_key_pem())
                .unwrap();
        assert_eq!(verified.name(), "transaction.failed");
        assert!(
            wallet_client::callback::verify_callback(
                &event.replace("failed", "reserved"),
                &sign,
                signer.public_key_pem()
            )
            .is_err()
        );

        // The same key from a PKCS#8 PEM file signs identically (PKCS#1 v1.5 is deterministic).
        let from_pem = CallbackSigner::from_pem(&pem_encode("PRIVATE KEY", &der)).unwrap();
        assert_eq!(from_pem.public_key_pem(), signer.public_key_pem());
        assert_eq!(from_pem.sign(event).unwrap(), sign);
        assert!(CallbackSigner::from_pem("-----BEGIN CERTIFICATE-----\n").is_err());
        assert!(!format!("{signer:?}").contains(&B64.encode(&der)));
    }
}
