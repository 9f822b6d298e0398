//! The two timing helpers every benchmark's interleaved loop uses (the
//! benches of cogito-snp, cogito-tdx, cogito-cca and cogito-server, and
//! cogito-bench): criterion gives the distributions, these give the
//! side-by-side medians the ratios are read from.

use std::time::{Duration, Instant};

/// Mean time per call of `op` over `iters` calls (at least one).
pub fn mean(iters: u32, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        op();
    }
    start.elapsed() / iters.max(1)
}

/// The median of `values` (the upper one of an even count); NaN when
/// empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(super::median(vec![]).is_nan());
    }

    #[test]
    fn mean_of_no_calls_is_not_a_division_by_zero() {
        let mut calls = 0;
        let _ = super::mean(0, || calls += 1);
        assert_eq!(calls, 0);
    }
}
