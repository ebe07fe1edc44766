//! Masking of secret values: evidence keeps the first four characters, an
//! ellipsis and the length, never the value (CHECKS.md, detection contract).

use sha2::{Digest, Sha256};

/// `sk_live_abcdef…` → `sk_l… (32 chars)`.
pub fn mask(secret: &str) -> String {
    let prefix: String = secret.chars().take(4).collect();
    format!("{prefix}… ({} chars)", secret.chars().count())
}

/// A stable identity for a secret that does not reveal it.
pub fn secret_identity(secret: &str) -> String {
    hex::encode(&Sha256::digest(secret.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_four_chars_and_length() {
        assert_eq!(super::mask("AKIAABCDEFGHIJKLMNOP"), "AKIA… (20 chars)");
        assert!(!super::secret_identity("hunter2").contains("hunter2"));
    }
}
