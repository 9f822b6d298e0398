//! Verification off the async workers: a fixed pool of threads (one per
//! core by default) and a bounded number of verifications waiting or
//! running. When every slot is taken the request is shed at once with 503
//! and `Retry-After`, instead of queueing without end.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::{oneshot, Semaphore};

use crate::error::ApiError;

/// The verification pool.
pub struct VerifyPool {
    pool: rayon::ThreadPool,
    slots: Arc<Semaphore>,
    depth: Arc<AtomicU32>,
}

impl std::fmt::Debug for VerifyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyPool")
            .field("threads", &self.pool.current_num_threads())
            .finish_non_exhaustive()
    }
}

impl VerifyPool {
    /// `threads` (0: one per core) working through at most `queue`
    /// verifications at a time.
    pub fn new(threads: usize, queue: usize) -> std::io::Result<VerifyPool> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("cogito-verify-{i}"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(VerifyPool {
            pool,
            slots: Arc::new(Semaphore::new(queue)),
            depth: Arc::new(AtomicU32::new(0)),
        })
    }

    /// Runs `job` on the pool; `Saturated` when no slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Saturated)?;
        let depth = self.depth.clone();
        let now = depth.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        metrics::gauge!("cogito_verify_queue_depth").set(f64::from(now));
        let (tx, rx) = oneshot::channel();
        self.pool.spawn(move || {
            let out = job();
            // The slot is free before the result is delivered: a caller
            // that awaited this job and at once submits another must find
            // it free (regression: a_full_queue_sheds_at_once was flaky
            // when the permit was dropped after the send).
            let left = depth.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
            metrics::gauge!("cogito_verify_queue_depth").set(f64::from(left));
            drop(permit);
            let _ = tx.send(out);
        });
        rx.await.map_err(|_| ApiError::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_sheds_at_once() {
        let pool = Arc::new(VerifyPool::new(1, 1).unwrap());
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let p = pool.clone();
        let busy = tokio::spawn(async move {
            p.run(move || {
                let _ = hold.recv();
                7
            })
            .await
        });
        // Wait until the first job holds the only slot.
        while pool.slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.run(|| 8).await, Err(ApiError::Saturated));
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap(), Ok(7));
        // The slot is free again.
        assert_eq!(pool.run(|| 9).await, Ok(9));
    }
}
