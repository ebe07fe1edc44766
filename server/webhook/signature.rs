//! GitHub's delivery signature: `X-Hub-Signature-256: sha256=<hex>`, the
//! HMAC-SHA256 of the raw body keyed with the webhook secret. Checked in
//! constant time (`Mac::verify_slice`) so the comparison leaks nothing about
//! how much of a forged signature was right.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Why a delivery's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not `sha256=` followed by 64 hex digits")]
    Malformed,
    #[error("the X-Hub-Signature-256 signature does not match the body and the configured secret")]
    Mismatch,
}

/// Checks `header` against `body` signed with `secret`.
///
/// # Errors
/// A [`SignatureError`] saying what was wrong with the header.
pub fn verify(secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    mac(secret, body).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The header value GitHub would send for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret, body).finalize().into_bytes()))
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example from GitHub's "Validating webhook deliveries" page.
    #[test]
    fn matches_githubs_published_example() {
        let secret = b"It's a Secret to Everybody";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, b"Hello, World!"), header);
        assert_eq!(verify(secret, Some(header), b"Hello, World!"), Ok(()));
        assert_eq!(verify(secret, Some(header), b"Hello, World"), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"another secret", Some(header), b"Hello, World!"), Err(SignatureError::Mismatch));
    }

    #[test]
    fn malformed_headers_are_told_apart_from_wrong_ones() {
        let secret = b"s";
        assert_eq!(verify(secret, None, b"{}"), Err(SignatureError::Missing));
        assert_eq!(verify(secret, Some("sha1=abcd"), b"{}"), Err(SignatureError::Malformed));
        assert_eq!(verify(secret, Some("sha256=zz"), b"{}"), Err(SignatureError::Malformed));
        assert_eq!(verify(secret, Some("sha256=abcd"), b"{}"), Err(SignatureError::Malformed));
    }
}
