//! What the command prints: text that a plugin or a PSA chose (descriptions, messages, errors,
//! records) never reaches the operator's terminal raw.
//!
//! Plain text goes through [`safe`] (one line, every control escaped); JSON through [`json`],
//! which leaves it valid JSON.

use psahost_sandbox::text::is_unsafe;
use serde::Serialize;
use std::fmt::Write as _;

pub use psahost_sandbox::text::one_line as safe;

/// `value` as pretty JSON in which every character that could act on a terminal is a `\u`
/// escape. serde_json escapes the C0 controls inside strings; this adds DEL, the C1 controls
/// and the bidirectional controls, which it leaves raw. Line breaks outside strings are the
/// pretty printer's own.
pub fn json(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(escaped(&serde_json::to_string_pretty(value)?))
}

/// `value` as one line of JSON (a JSON Lines record), escaped as [`json`] is.
pub fn json_line(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(escaped(&serde_json::to_string(value)?))
}

/// Whether the output stopped: its reader went away, or a write failed (then reported).
static STOPPED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
const READER_GONE: u8 = 1;
const WRITE_FAILED: u8 = 2;

/// Writes the command's output (through [`outln!`] and [`out!`]). When whoever reads it has
/// gone away (`psahost records list ... | head`), the rest of the output is dropped quietly and
/// the command runs to its end with its own exit code (Rust ignores SIGPIPE, so `println!`
/// would panic with a backtrace instead, in the middle of the command). Another write error is
/// reported once and fails the command ([`output_failed`]).
pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    use std::sync::atomic::Ordering;
    if STOPPED.load(Ordering::Relaxed) != 0 {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STOPPED.store(READER_GONE, Ordering::Relaxed);
        } else {
            STOPPED.store(WRITE_FAILED, Ordering::Relaxed);
            eprintln!("error: cannot write the output: {e}");
        }
    }
}

/// Whether writing the output failed for another reason than its reader going away.
pub fn output_failed() -> bool {
    STOPPED.load(std::sync::atomic::Ordering::Relaxed) == WRITE_FAILED
}

/// `println!` for the command's output, dropped quietly once its reader went away
/// ([`write_out`]).
macro_rules! outln {
    () => {
        $crate::terminal::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::terminal::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for the command's output ([`write_out`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::terminal::write_out(format_args!($($arg)*))
    };
}

fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && is_unsafe(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json as j};

    #[test]
    fn json_stays_valid_and_escapes_every_control() {
        let value = j!({
            "name": "Acme \u{1b}[31mred\u{7} \r\n",
            "c1": "\u{9b}2J del \u{7f}",
            "bidi": "\u{202e}txt.exe",
            "fine": "é 漢字",
        });
        let text = json(&value).unwrap();
        assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
        assert!(text.contains("\\u009b") && text.contains("\\u202e") && text.contains("é 漢字"));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back, value,
            "the escapes are JSON's own: the value reads back equal"
        );
    }
}
