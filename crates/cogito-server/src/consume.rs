//! Nonces consumed in batches. Every accepted attestation writes its nonce
//! to the store, the one write on the protocol's path; under load, the
//! writes that are waiting when the store becomes free go together, in
//! one statement and one transaction. A lone request waits for nothing:
//! a batch is whatever is queued when the previous one ends.
//!
//! Single use holds as with one write per nonce: the statement inserts a
//! nonce only if no statement inserted it before (on any replica), and a
//! nonce that appears twice in one batch is granted to its first request.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{Store, StoreError};

/// The most nonces one statement writes.
const BATCH: usize = 256;

type Reply = oneshot::Sender<Result<bool, StoreError>>;

/// The queue of nonces to consume.
#[derive(Debug, Clone)]
pub struct NonceSink {
    tx: mpsc::Sender<(Vec<u8>, i64, Reply)>,
}

impl NonceSink {
    /// Starts the writer task (on the current tokio runtime).
    pub fn start(store: Arc<dyn Store>) -> NonceSink {
        let (tx, mut rx) = mpsc::channel::<(Vec<u8>, i64, Reply)>(4 * BATCH);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                write(&*store, batch).await;
            }
        });
        NonceSink { tx }
    }

    /// Consumes one nonce: `true` the first time it is ever consumed.
    pub async fn consume(&self, id: Vec<u8>, expires: i64) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((id, expires, reply))
            .await
            .map_err(|_| StoreError::new("the nonce writer has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::new("the nonce writer has stopped"))?
    }
}

async fn write(store: &dyn Store, batch: Vec<(Vec<u8>, i64, Reply)>) {
    // A nonce twice in one batch: the first request's row goes to the
    // store, the others are replays.
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(batch.len());
    let mut waiting = Vec::with_capacity(batch.len());
    for (id, expires, reply) in batch {
        if seen.insert(id.clone()) {
            rows.push((id, expires));
            waiting.push(reply);
        } else {
            let _ = reply.send(Ok(false));
        }
    }
    match store.consume_nonces(&rows).await {
        Ok(fresh) => {
            for (reply, f) in waiting.into_iter().zip(fresh) {
                let _ = reply.send(Ok(f));
            }
        }
        Err(e) => {
            for reply in waiting {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqlStore;

    async fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        Arc::new(SqlStore::open(&url).await.unwrap())
    }

    #[tokio::test]
    async fn one_statement_consumes_each_nonce_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir).await;
        let rows = vec![(vec![1u8], 10), (vec![2u8], 10)];
        assert_eq!(s.consume_nonces(&rows).await.unwrap(), [true, true]);
        let rows = vec![(vec![1u8], 10), (vec![3u8], 10)];
        assert_eq!(s.consume_nonces(&rows).await.unwrap(), [false, true]);
        assert!(!s.consume_nonce(&[3], 10).await.unwrap());
        assert!(s.consume_nonces(&[]).await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_nonce_sent_many_times_at_once_is_granted_once() {
        let dir = tempfile::tempdir().unwrap();
        let sink = NonceSink::start(store(&dir).await);
        let mut tasks = Vec::new();
        for i in 0..200u8 {
            let sink = sink.clone();
            // 200 requests for 10 nonces, all at once.
            tasks.push(tokio::spawn(async move {
                (i % 10, sink.consume(vec![i % 10], 99).await.unwrap())
            }));
        }
        let mut granted = [0u32; 10];
        for t in tasks {
            let (n, ok) = t.await.unwrap();
            if ok {
                granted[usize::from(n)] += 1;
            }
        }
        assert_eq!(granted, [1; 10]);
    }
}
