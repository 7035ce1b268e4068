//! The `log` capability, and the guest's stdout/stderr: both become `tracing` events tagged with
//! the plugin and the connection, with the connection's secrets redacted.
//!
//! Their volume is bounded ([`LogLimits`]): one line is cut at `max_line_bytes`; a call may log
//! `lines_per_call` lines and a connection `rate` lines per period (a token bucket shared by its
//! calls). The host's own per-request warnings of a connection count against the same budget.
//! Lines beyond it are dropped and counted; the call ends with one "suppressed N lines" notice.

use crate::bindings::psa::connector::log::{Host, Level};
use crate::capabilities::http::Rate;
use crate::capabilities::settings::Redactor;
use crate::runtime::CallState;
use crate::text::one_line;
use bytes::Bytes;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much a connection's calls may log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLimits {
    /// Longest line, in bytes (longer ones are cut).
    pub max_line_bytes: usize,
    /// Lines one call may log.
    pub lines_per_call: u32,
    /// Lines the connection may log per period, over all its calls (also the burst).
    pub rate: Rate,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_line_bytes: 4096,
            lines_per_call: 1000,
            rate: Rate::new(6000, Duration::from_secs(60)),
        }
    }
}

/// A connection's log budget, shared by its calls: a token bucket of lines.
#[derive(Debug)]
pub struct LogBudget {
    limits: LogLimits,
    bucket: Mutex<(f64, Instant)>,
}

impl LogBudget {
    /// A full budget for `limits`.
    pub fn new(limits: LogLimits) -> Self {
        LogBudget {
            limits,
            bucket: Mutex::new((f64::from(limits.rate.requests), Instant::now())),
        }
    }

    fn take(&self) -> bool {
        let rate = self.limits.rate;
        let capacity = f64::from(rate.requests);
        let per_second = capacity / rate.period.as_secs_f64().max(1e-3);
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(bucket.1).as_secs_f64();
        bucket.0 = (bucket.0 + elapsed * per_second).min(capacity);
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One call's share of its connection's log budget, and what it suppressed.
#[derive(Debug)]
pub struct CallLog {
    budget: Arc<LogBudget>,
    lines: AtomicU32,
    suppressed: AtomicU64,
}

impl CallLog {
    /// A call's log under `budget`.
    pub fn new(budget: Arc<LogBudget>) -> Self {
        CallLog {
            budget,
            lines: AtomicU32::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether one more line may be logged; if not it is counted as suppressed.
    pub fn admit(&self) -> bool {
        let within_call =
            self.lines.fetch_add(1, Ordering::Relaxed) < self.budget.limits.lines_per_call;
        if within_call && self.budget.take() {
            return true;
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// Lines suppressed so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }
}

/// Who is logging: attached to every event a plugin causes.
#[derive(Clone, Debug)]
pub struct LogTag {
    /// The plugin's id.
    pub plugin: Arc<str>,
    /// The connection's id, or `-` outside a connection.
    pub connection: Arc<str>,
    /// Redacts the connection's secrets.
    pub redactor: Redactor,
    /// The call's log budget.
    pub log: Arc<CallLog>,
}

impl LogTag {
    /// Whether a host line about this call (a denied request, ...) may be logged.
    pub fn admit(&self) -> bool {
        self.log.admit()
    }

    /// The one notice of what the call's log limits suppressed, if anything.
    pub fn finish(&self) {
        let n = self.log.suppressed.swap(0, Ordering::Relaxed);
        if n > 0 {
            let limits = self.log.budget.limits;
            tracing::warn!(
                target: "psahost::guest",
                plugin = &*self.plugin, connection = &*self.connection,
                "suppressed {n} log lines of this call (limits: {} lines per call, {} per {:?} per connection)",
                limits.lines_per_call, limits.rate.requests, limits.rate.period
            );
        }
    }

    /// Emits one guest message at `level`, within the log limits.
    pub fn emit(&self, level: Level, source: &'static str, message: &str) {
        if !self.log.admit() {
            return;
        }
        let max = self.log.budget.limits.max_line_bytes;
        let message = cut(message, max, &self.redactor);
        let message = one_line(&message);
        let message = cut(&message, max, &Redactor::default());
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

/// `text` redacted and cut to at most `max` bytes (on a character boundary), with a note of how
/// much was cut. A secret crossing the cut is redacted whole first.
fn cut(text: &str, max: usize, redactor: &Redactor) -> String {
    if text.len() <= max {
        return redactor.redact(text).into_owned();
    }
    let floor = |s: &str, mut at: usize| {
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let head = &text[..floor(text, (max + redactor.longest()).min(text.len()))];
    let head = redactor.redact(head);
    let keep = &head[..floor(&head, max.min(head.len()))];
    format!("{keep}... [{} bytes cut]", text.len() - keep.len())
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
    fn lines_are_cut_with_secrets_redacted_whole() {
        let r = Redactor::new(["SECRET".to_string()]);
        assert_eq!(cut("short SECRET", 100, &r), "short [redacted]");
        let cut_text = cut("abcSECRETxyz", 5, &r);
        assert!(!cut_text.contains("SEC"), "{cut_text}");
        assert_eq!(cut("ééé", 3, &r), "é... [4 bytes cut]");
    }

    #[test]
    fn a_call_and_a_connection_have_line_budgets() {
        let budget = Arc::new(LogBudget::new(LogLimits {
            max_line_bytes: 10,
            lines_per_call: 3,
            rate: Rate::new(5, Duration::from_secs(3600)),
        }));
        let call = CallLog::new(budget.clone());
        let admitted = (0..10).filter(|_| call.admit()).count();
        assert_eq!((admitted, call.suppressed()), (3, 7));
        // The next call has its own per-call budget, but the connection's is nearly spent.
        let call = CallLog::new(budget);
        let admitted = (0..10).filter(|_| call.admit()).count();
        assert_eq!((admitted, call.suppressed()), (2, 8));
    }

    #[test]
    fn guest_text_stays_on_one_line() {
        assert_eq!(one_line("plain text é"), "plain text é");
        assert_eq!(
            one_line("a\nINFO psahost::guest: plugin=\"x\"\r\x1b[2Kok\x07\t\u{2028}\u{85}"),
            "a\\nINFO psahost::guest: plugin=\"x\"\\r\\u{1b}[2Kok\\u{7}\\t\\u{2028}\\u{85}"
        );
    }
}
