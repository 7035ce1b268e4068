//! The `log` capability, and the guest's stdout/stderr: both become `tracing` events tagged with
//! the plugin and the connection, with the connection's secrets redacted.

use crate::bindings::psa::connector::log::{Host, Level};
use crate::capabilities::settings::Redactor;
use crate::runtime::CallState;
use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Who is logging: attached to every event a plugin causes.
#[derive(Clone, Debug)]
pub struct LogTag {
    /// The plugin's id.
    pub plugin: Arc<str>,
    /// The connection's id, or `-` outside a connection.
    pub connection: Arc<str>,
    /// Redacts the connection's secrets.
    pub redactor: Redactor,
}

impl LogTag {
    /// Emits one guest message at `level`.
    pub fn emit(&self, level: Level, source: &'static str, message: &str) {
        let message = self.redactor.redact(message);
        let message = escape_controls(&message);
        let (plugin, connection) = (&*self.plugin, &*self.connection);
        match level {
            Level::Trace => {
                tracing::trace!(target: "psahost::guest", plugin, connection, source, "{message}")
            }
            Level::Debug => {
                tracing::debug!(target: "psahost::guest", plugin, connection, source, "{message}")
            }
            Level::Info => {
                tracing::info!(target: "psahost::guest", plugin, connection, source, "{message}")
            }
            Level::Warn => {
                tracing::warn!(target: "psahost::guest", plugin, connection, source, "{message}")
            }
            Level::Error => {
                tracing::error!(target: "psahost::guest", plugin, connection, source, "{message}")
            }
        }
    }
}

/// `text` with line breaks and other control characters escaped (`\n`, `\r`, `\t`,
/// `\u{1b}`), so guest text stays on its one line: it cannot forge a line with other tags,
/// nor send terminal escapes to whoever reads the log.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let special = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.chars().any(special) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if special(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Host for CallState {
    async fn log(&mut self, level: Level, message: String) {
        self.tag().emit(level, "log", &message);
    }
}

/// A guest output stream (stdout or stderr) that logs each line.
#[derive(Clone)]
pub struct GuestOutput {
    tag: LogTag,
    source: &'static str,
    level: Level,
}

impl GuestOutput {
    /// The guest's stdout, logged at info level.
    pub fn stdout(tag: LogTag) -> Self {
        GuestOutput {
            tag,
            source: "stdout",
            level: Level::Info,
        }
    }

    /// The guest's stderr, logged at warn level.
    pub fn stderr(tag: LogTag) -> Self {
        GuestOutput {
            tag,
            source: "stderr",
            level: Level::Warn,
        }
    }

    fn writer(&self) -> LineWriter {
        LineWriter {
            out: self.clone(),
            pending: Vec::new(),
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.writer())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.writer())
    }
}

/// Most a guest may leave unterminated before it is logged anyway.
const MAX_LINE: usize = 16 * 1024;

struct LineWriter {
    out: GuestOutput,
    pending: Vec<u8>,
}

impl LineWriter {
    fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&line[..line.len() - 1]);
        }
        if self.pending.len() > MAX_LINE {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }

    fn emit(&self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if !line.is_empty() {
            self.out.tag.emit(self.out.level, self.out.source, line);
        }
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        self.emit(&rest);
    }
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(MAX_LINE)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_text_stays_on_one_line() {
        assert_eq!(escape_controls("plain text é"), "plain text é");
        assert_eq!(
            escape_controls("a\nINFO psahost::guest: plugin=\"x\"\r\x1b[2Kok\x07\t\u{2028}\u{85}"),
            "a\\nINFO psahost::guest: plugin=\"x\"\\r\\u{1b}[2Kok\\u{7}\\t\\u{2028}\\u{85}"
        );
    }
}
