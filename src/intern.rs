//! Small building blocks for the hot loop: a fast non-cryptographic hasher (keys are our own
//! interned ids and log names, not attacker-chosen collisions worth SipHash's cost) and a
//! string interner, so that per-thread aggregation keys are a few `u32`s and a repeated
//! string costs a lookup, not an allocation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply-rotate hash popularised by Firefox and rustc.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }
    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }
    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }
    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Strings to dense ids and back. Id 0 is always the empty string, used for "absent".
#[derive(Debug, Clone)]
pub struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            ids: FxHashMap::default(),
            strings: Vec::new(),
        };
        interner.intern("");
        interner
    }
}

impl Interner {
    /// The id of `text`, adding it on first sight.
    #[inline]
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    /// How many strings are interned (ids are `0..len`).
    pub fn count(&self) -> usize {
        self.strings.len()
    }

    /// The string behind an id handed out by this interner.
    #[inline]
    pub fn get(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |text| text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_round_trips_and_reserves_zero() {
        let mut interner = Interner::default();
        assert_eq!(interner.intern(""), 0);
        let a = interner.intern("s3:GetObject");
        let b = interner.intern("s3:PutObject");
        assert_ne!(a, b);
        assert_eq!(interner.intern("s3:GetObject"), a);
        assert_eq!(interner.get(b), "s3:PutObject");
    }
}
