//! Per-call resource limits: the memory cap (enforced by a [`wasmtime::ResourceLimiter`] that
//! remembers whether it refused a growth, so a trap can be explained) and table caps.

use wasmtime::ResourceLimiter;

/// Most table elements one instance may have.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Caps the total linear memory of one store.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: usize,
    used: usize,
    refused: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `cap` bytes in total.
    pub fn new(cap: u64) -> Self {
        MemoryLimiter {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            used: 0,
            refused: false,
        }
    }

    /// Whether a growth was refused: a trap after that is the memory cap's doing.
    pub fn refused(&self) -> bool {
        self.refused
    }

    /// The cap in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Linear memories never shrink, so the growths add up to the store's total.
        let growth = desired.saturating_sub(current);
        if self.used.saturating_add(growth) > self.cap {
            self.refused = true;
            return Ok(false);
        }
        self.used += growth;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_growth_across_memories() {
        let mut l = MemoryLimiter::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 30, None).unwrap());
        assert!(!l.refused());
        assert!(!l.memory_growing(30, 50, None).unwrap());
        assert!(l.refused());
        assert!(l.memory_growing(60, 70, None).unwrap());
    }
}
