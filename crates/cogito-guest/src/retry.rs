//! When to try again: transient failures only (a connection that could
//! not be made or broke, 429, 503), after a delay that doubles from
//! `base` up to `max`, with jitter so that a fleet rebooting at once does
//! not come back in lockstep; a server's `Retry-After` is honoured (up to
//! a minute). Refusals, TLS failures and malformed answers are final.

use std::time::Duration;

/// The retry schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            attempts: 6,
            base: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

impl Backoff {
    /// The delay before attempt `next` (2 for the first retry), given the
    /// server's `Retry-After` in seconds if it sent one: the larger of that
    /// and the exponential delay, the latter jittered down by up to half.
    pub fn delay(&self, next: u32, retry_after: Option<u64>) -> Duration {
        let exponent = next.saturating_sub(2).min(16);
        let exponential = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let mut random = [0u8; 2];
        let jitter = if aws_lc_rs::rand::fill(&mut random).is_ok() {
            u32::from(u16::from_le_bytes(random))
        } else {
            0
        };
        // A factor in [1/2, 1].
        let jittered = exponential / 2 + (exponential / 2).mul_f64(f64::from(jitter) / 65535.0);
        let asked = retry_after
            .map(Duration::from_secs)
            .unwrap_or_default()
            .min(MAX_RETRY_AFTER);
        jittered.max(asked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_jitter_and_honour_retry_after() {
        let b = Backoff::default();
        for _ in 0..50 {
            let d2 = b.delay(2, None);
            assert!(d2 >= Duration::from_millis(250) && d2 <= Duration::from_millis(500));
            let d4 = b.delay(4, None);
            assert!(d4 >= Duration::from_secs(1) && d4 <= Duration::from_secs(2));
            let d20 = b.delay(20, None);
            assert!(d20 >= Duration::from_secs(4) && d20 <= Duration::from_secs(8));
        }
        assert_eq!(b.delay(2, Some(3)), Duration::from_secs(3));
        assert_eq!(b.delay(2, Some(3600)), Duration::from_secs(60));
    }
}
