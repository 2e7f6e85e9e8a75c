//! The live server's tokens: a write token (applies) and an optional read
//! token (the host's data). A generated token is shown only on a terminal
//! or written to a file only its owner can read — never to standard output
//! that a service manager keeps in its journal. A token file anyone but its
//! owner can read or write is refused, and so is a guessable token: shorter
//! than 32 characters, one character repeated, or under 128 bits by a
//! plain estimate (length × log2 of the alphabet its characters come from).

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Shortest token accepted.
pub const MIN_LEN: usize = 32;
/// Least estimated strength accepted, in bits.
pub const MIN_BITS: f64 = 128.0;

/// Why a token or a token file is not used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the token file {0}: {1}")]
    Read(String, std::io::Error),
    #[error("the token file {0} has mode {1:o}: other users can read or change it (chmod 600 it)")]
    Exposed(String, u32),
    #[error("the token in {0} {1}")]
    Weak(String, String),
    #[error("cannot write the token file {0}: {1}")]
    Write(String, std::io::Error),
}

/// How many bits a guesser needs, by the characters `token` uses.
pub fn estimate_bits(token: &str) -> f64 {
    let mut distinct: Vec<char> = token.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut alphabet = if token.chars().all(|c| c.is_ascii_digit()) {
        10
    } else if token.chars().all(|c| c.is_ascii_hexdigit()) {
        16
    } else {
        let has = |f: fn(&char) -> bool| token.chars().any(|c| f(&c));
        let mut n = 0;
        if has(char::is_ascii_lowercase) {
            n += 26;
        }
        if has(char::is_ascii_uppercase) {
            n += 26;
        }
        if has(char::is_ascii_digit) {
            n += 10;
        }
        if has(char::is_ascii_punctuation) {
            n += 32;
        }
        n
    };
    // "abab…" uses a two-letter alphabet, whatever the letters.
    if distinct.len() < 8 {
        alphabet = alphabet.min(distinct.len());
    }
    token.chars().count() as f64 * (alphabet.max(1) as f64).log2()
}

/// What is wrong with `token`, if anything.
pub fn weakness(token: &str) -> Option<String> {
    let n = token.chars().count();
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Some("must be printable ASCII characters without spaces".into());
    }
    if n < MIN_LEN {
        return Some(format!(
            "has {n} characters: at least {MIN_LEN} are needed (e.g. `openssl rand -hex 32`)"
        ));
    }
    let mut chars = token.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Some("is one character repeated".into());
    }
    let bits = estimate_bits(token);
    if bits < MIN_BITS {
        return Some(format!(
            "is too easy to guess (about {bits:.0} bits; at least {MIN_BITS:.0} are needed: use more characters or more kinds of them)"
        ));
    }
    None
}

/// The token in `path`: the file only its owner may read or write, the
/// token strong enough.
pub fn read_file(path: &Path) -> Result<String, TokenError> {
    let name = || path.display().to_string();
    let m = std::fs::metadata(path).map_err(|e| TokenError::Read(name(), e))?;
    if m.mode() & 0o077 != 0 {
        return Err(TokenError::Exposed(name(), m.mode() & 0o777));
    }
    let text = std::fs::read_to_string(path).map_err(|e| TokenError::Read(name(), e))?;
    let token = text.trim().to_string();
    if let Some(why) = weakness(&token) {
        return Err(TokenError::Weak(name(), why));
    }
    Ok(token)
}

/// Write `token` to a new file `path` of mode 0600 (an old one is
/// replaced, never reused: it may have been made readable).
pub fn write_file(path: &Path, token: &str) -> Result<(), TokenError> {
    let err = |e| TokenError::Write(path.display().to_string(), e);
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    writeln!(f, "{token}").map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn weak_tokens_are_refused() {
        assert!(weakness("0123456789abcdef")
            .unwrap()
            .contains("at least 32"));
        assert!(weakness(&"a".repeat(64)).unwrap().contains("repeated"));
        assert!(weakness(&"ab".repeat(32))
            .unwrap()
            .contains("easy to guess"));
        // 40 digits: ~133 bits; 32 digits: ~106.
        assert!(weakness(&"31415926535897932384626433832795"[..32])
            .unwrap()
            .contains("easy to guess"));
        assert!(weakness("with space with space with space!!").is_some());
        // `openssl rand -hex 16` (128 bits) and our own 64 hex digits pass.
        assert_eq!(weakness("9f86d081884c7d659a2feaa0c55ad015"), None);
        assert_eq!(weakness(&crate::live::http::new_token().unwrap()), None);
        assert_eq!(weakness("Tr0ub4dor&3-correct-horse-battery"), None);
    }

    #[test]
    fn token_files_must_be_private() {
        let p = std::env::temp_dir().join(format!("lvslab-token-{}", std::process::id()));
        let good = "9f86d081884c7d659a2feaa0c55ad015b3a4f1c2";
        write_file(&p, good).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(read_file(&p).unwrap(), good);
        for mode in [0o640, 0o604, 0o620] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = read_file(&p).unwrap_err();
            assert!(matches!(e, TokenError::Exposed(..)), "{e}");
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
        // Written again: a fresh private file, whatever the old one was.
        write_file(&p, good).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        std::fs::write(&p, "short\n").unwrap();
        let e = read_file(&p).unwrap_err();
        assert!(matches!(e, TokenError::Weak(..)), "{e}");
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(read_file(&p), Err(TokenError::Read(..))));
    }
}
