//! The text of errors and log lines: secrets redacted, long answers shortened.
//!
//! The host redacts the secret settings from everything a connector logs or returns, but a
//! connector also holds secrets the host does not know (an access token it obtained) and quotes
//! PSA answers that may echo a credential back; redact them itself with [`redact`] or
//! [`Error::redact`](crate::Error::redact). Error answers can be whole HTML pages: quote an
//! [`excerpt`].
//!
//! ```
//! use psa_sdk::{Error, message};
//!
//! let token = "2b1f6c0e9d4a";
//! let echoed = format!("invalid token {token}");
//! assert_eq!(message::redact(&echoed, &[token]), "invalid token [redacted]");
//! assert_eq!(
//!     Error::unavailable(echoed).redact(&[token]),
//!     Error::unavailable("invalid token [redacted]")
//! );
//! assert_eq!(message::excerpt("abcdef", 3), "abc…");
//! ```

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this many bytes are not redacted: replacing every `a` of a text would
/// make it unreadable and tell more about the secret than it hides.
pub const MIN_SECRET_LEN: usize = 3;

/// How many characters of an answer's body [`body_excerpt`] keeps.
pub const BODY_EXCERPT_CHARS: usize = 300;

/// `text` with every occurrence of each secret replaced by `[redacted]`. Longer secrets are
/// replaced first, so a secret that contains another is not left half visible; secrets shorter
/// than [`MIN_SECRET_LEN`] are left alone.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    secrets.sort_by_key(|s| core::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

/// At most `max_chars` characters of `text` (trimmed), with `…` when some were cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The start of an answer's body as text (invalid UTF-8 replaced), at most
/// [`BODY_EXCERPT_CHARS`] characters, to quote in an error.
pub fn body_excerpt(body: &[u8]) -> String {
    excerpt(&String::from_utf8_lossy(body), BODY_EXCERPT_CHARS)
}

/// Names quoted for a message: `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` `` (the
/// settings an error asks to check).
///
/// ```
/// use psa_sdk::message::quoted_list;
/// assert_eq!(quoted_list(&["public-key", "private-key"]), "`public-key` and `private-key`");
/// assert_eq!(quoted_list(&["a", "b", "c"]), "`a`, `b` and `c`");
/// assert_eq!(quoted_list(&[]), "");
/// ```
pub fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn redacts_every_occurrence_longest_first() {
        assert_eq!(
            redact(
                "key privSECRET456 leaked twice: privSECRET456",
                &["privSECRET456"]
            ),
            "key [redacted] leaked twice: [redacted]"
        );
        assert_eq!(
            redact(
                "secret s3cretVALUE and code TRACKING4INTEGRATION",
                &["s3cretVALUE", "TRACKING4INTEGRATION"]
            ),
            "secret [redacted] and code [redacted]"
        );
        // A secret is redacted as typed, blanks included.
        assert_eq!(
            redact(
                "echo  pw SECRET  and tok3n-abc",
                &[" pw SECRET ", "tok3n-abc"]
            ),
            "echo [redacted] and [redacted]"
        );
        // The longer secret first: no tail of it stays visible.
        assert_eq!(redact("abcdef", &["abc", "abcdef"]), "[redacted]");
        // Short and empty secrets are left alone.
        assert_eq!(redact("a b", &["a", ""]), "a b");
        assert_eq!(redact("nothing here", &[]), "nothing here");
    }

    #[test]
    fn redacts_every_text_of_an_error_but_not_its_names() {
        let s = &["s3cret"];
        let cases = [
            (
                Error::unauthorized("s3cret-setting", "bad s3cret"),
                Error::unauthorized("s3cret-setting", "bad [redacted]"),
            ),
            (
                Error::forbidden("role s3cret", "no s3cret"),
                Error::forbidden("role [redacted]", "no [redacted]"),
            ),
            (
                Error::not_found("ticket s3cret"),
                Error::not_found("ticket [redacted]"),
            ),
            (
                Error::invalid("title", "echo s3cret"),
                Error::invalid("title", "echo [redacted]"),
            ),
            (
                Error::rate_limited(Some(5), "s3cret"),
                Error::rate_limited(Some(5), "[redacted]"),
            ),
            (
                Error::unavailable("s3cret down"),
                Error::unavailable("[redacted] down"),
            ),
            (
                Error::unsupported("s3cret"),
                Error::unsupported("[redacted]"),
            ),
            (
                Error::remote(500, Some("E".into()), "echo s3cret"),
                Error::remote(500, Some("E".into()), "echo [redacted]"),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.redact(s), expected);
        }
    }

    #[test]
    fn excerpts() {
        assert_eq!(excerpt("  short  ", 300), "short");
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("Störung", 3), "Stö…");
        assert_eq!(excerpt("", 0), "");
        let long = "x".repeat(1000);
        assert_eq!(body_excerpt(long.as_bytes()).chars().count(), 301);
        assert_eq!(body_excerpt(b"<html>502</html>\n"), "<html>502</html>");
        assert_eq!(body_excerpt(&[0xff, b'a']), "\u{fffd}a");
    }
}
