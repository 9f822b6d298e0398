//! Deterministic randomness for the robustness tests of the verifier
//! crates: the same seed always gives the same stream of mutations, so a
//! failure found once is found on every run.

/// xorshift64* (Vigna): small, fast and good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    /// A stream fixed by `label` and `salt`: FNV-1a of the label, so each
    /// case has its own fixed stream.
    pub fn seeded(label: &str, salt: u64) -> Rng {
        let mut h = 0xcbf2_9ce4_8422_2325u64 ^ salt;
        for b in label.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Rng(h | 1)
    }
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A value in `0..n` (`n` must not be zero).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    /// One of `items` (which must not be empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
