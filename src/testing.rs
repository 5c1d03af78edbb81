//! Test support (compiled for tests only): a seeded random generator for the parser fuzz
//! tests, so a failure is reproducible from its seed, with no extra dependency.

/// xorshift64*: fast, deterministic, plenty for generating hostile inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 0..n
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A string of `len` pieces drawn from `alphabet`.
    pub fn text(&mut self, alphabet: &[&str], len: usize) -> String {
        (0..len).map(|_| *self.pick(alphabet)).collect()
    }
}

/// Run `f` and fail if it takes longer than `ms` milliseconds (a bound, not a benchmark:
/// generous enough for a debug build on a loaded machine).
pub fn within<T>(ms: u128, what: &str, f: impl FnOnce() -> T) -> T {
    let t0 = std::time::Instant::now();
    let out = f();
    let took = t0.elapsed().as_millis();
    assert!(took <= ms, "{what} took {took} ms (bound {ms} ms)");
    out
}
