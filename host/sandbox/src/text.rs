//! Untrusted text (a plugin's description, a connector's message, a PSA's record) made safe to
//! show on one line of a terminal or a line-based log.
//!
//! A plugin chooses every byte of what it returns: raw, an ESC or a CR in it would let it
//! rewrite what the operator sees (`\r\x1b[2Kok: connected`), and a line break would let it
//! forge a line of its own. [`one_line`] escapes everything that can do either.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` can move the cursor, change what a terminal shows, or split or reorder a line:
/// the C0 and C1 controls and DEL (Unicode `Cc`), the line and paragraph separators, and the
/// bidirectional marks, embeddings, overrides and isolates.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every [unsafe](is_unsafe) character escaped: `\n`, `\r`, `\t` and `\\` as
/// such, anything else as `\u{..}`. Text without any is borrowed as it is.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_can_rewrite_a_terminal_or_forge_a_line() {
        let cases = [
            (
                "plain text, accents é and 漢字",
                "plain text, accents é and 漢字",
            ),
            (
                "\r\x1b[2Kok: connected\x07",
                "\\r\\u{1b}[2Kok: connected\\u{7}",
            ),
            ("two\nlines", "two\\nlines"),
            ("tab\there", "tab\\there"),
            ("del\x7f", "del\\u{7f}"),
            ("c1 csi \u{9b}31m", "c1 csi \\u{9b}31m"),
            ("bidi \u{202e}gnp.exe", "bidi \\u{202e}gnp.exe"),
            ("isolate \u{2066}x\u{2069}", "isolate \\u{2066}x\\u{2069}"),
            ("separator \u{2028}", "separator \\u{2028}"),
            // A backslash is escaped too, so `\n` in the output always means an escaped break.
            ("a\\nb", "a\\\\nb"),
        ];
        for (input, want) in cases {
            assert_eq!(one_line(input), want, "{input:?}");
            assert!(!one_line(input).chars().any(is_unsafe), "{input:?}");
        }
    }

    #[test]
    fn safe_text_is_borrowed() {
        assert!(matches!(one_line("Acme Inc."), Cow::Borrowed(_)));
    }
}
