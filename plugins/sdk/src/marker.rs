//! Markers: the host's token for finding a ticket or a note again (`new-ticket.marker`,
//! `new-note.marker`, `ticket-filter.marker`, `find-note-by-marker`).
//!
//! The host writes a delivery's intent, then creates the ticket; when the answer is lost (a
//! crash, a timeout) it looks for the ticket by its marker before sending it again. A connector
//! stores a ticket's marker in the PSA's external reference field; a note's, in PSAs whose notes
//! have none, as the last line of the note's text ([`note_text`]), found again with
//! [`note_has`].
//!
//! ```
//! use psa_sdk::marker;
//!
//! assert_eq!(marker::check("psahost-1f2e3d").unwrap(), "psahost-1f2e3d");
//! assert!(marker::check("two words").is_err());
//! let text = marker::note_text("Disk full", "psahost-1f2e3d");
//! assert_eq!(text, "Disk full\n\nRef: psahost-1f2e3d");
//! assert!(marker::note_has(&text, "psahost-1f2e3d"));
//! assert!(!marker::note_has(&text, "psahost-1f2e"));
//! ```

use crate::{Error, Result};

/// The longest marker (the contract's bound; Autotask's `externalID` holds 50 characters).
pub const MAX_LEN: usize = 50;

/// What introduces a marker on a note's last line.
pub const NOTE_PREFIX: &str = "Ref: ";

/// The marker, checked: 1 to [`MAX_LEN`] ASCII letters, digits, `-`, `_`, `.` or `:`;
/// otherwise `invalid-input` naming `marker`.
pub fn check(marker: &str) -> Result<&str> {
    let ok = !marker.is_empty()
        && marker.len() <= MAX_LEN
        && marker
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(marker)
    } else {
        Err(Error::invalid(
            "marker",
            format!(
                "`{}` is not a marker: use 1 to {MAX_LEN} ASCII letters, digits, `-`, `_`, `.` or `:`",
                crate::message::excerpt(marker, 60)
            ),
        ))
    }
}

/// A note's text with its marker as the last line (`Ref: MARKER`), for PSAs whose notes have no
/// external reference field.
pub fn note_text(text: &str, marker: &str) -> String {
    format!("{}\n\n{NOTE_PREFIX}{marker}", text.trim_end())
}

/// Whether a note's text carries `marker` as made by [`note_text`] (a line equal to
/// `Ref: MARKER`, so a marker that is a prefix of another does not match).
pub fn note_has(text: &str, marker: &str) -> bool {
    text.lines()
        .rev()
        .any(|line| line.trim().strip_prefix(NOTE_PREFIX) == Some(marker))
}
