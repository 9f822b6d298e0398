//! Loading collateral from the store's cache, as the service does for
//! every verification (`StoreSource`, crates/cogito-server/src/collateral.rs):
//!
//! - `memo`: the answer remembered for `MEMO_SECS` — what nearly every
//!   verification pays (TDX: the decoded collateral, cloned);
//! - `store`: the memo forgotten first, so each lookup queries the store
//!   and, for TDX, decodes the stored JSON and base64 again — what the
//!   first verification after a restart, an import or `MEMO_SECS` pays.
//!
//! Objects: the real `tdx-v4-uptodate-dcap-qvl` collateral (seven
//! objects, as stored) and a SEV-SNP VCEK (`snp-milan-v2-virtee`'s). On
//! the embedded SQLite store always; on PostgreSQL when `COGITO_BENCH_PG`
//! names a database (scripts/bench creates and drops one). With
//! `COGITO_BENCH_OUT` set to a folder, one JSON line per store and object
//! is appended to its `store.jsonl`.
//!
//! `cargo bench -p cogito-server --bench store_cache`
// Bench code: a panic is a failed benchmark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use cogito_testkit::timing::{mean, median};
use std::hint::black_box;
use std::io::Write as _;
use std::sync::Arc;

use cogito_attest::CollateralSource;
use cogito_core::AmdProduct;
use cogito_server::collateral::{tdx_key, vcek_key, StoreSource, StoredTdx};
use cogito_server::store::{SqlStore, Store};
use cogito_snp::TcbParts;
use cogito_tdx::PckCaKind;

const FMSPC: [u8; 6] = [0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00];
const HW_ID: [u8; 64] = [0x42; 64];

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let smoke = std::env::args().any(|a| a == "--test");
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let tdx = cogito_collateral::load_tdx_bundle(&root.join("tdx/v4-uptodate-dcap-qvl"))
        .expect("the TDX collateral reads")
        .expect("tdx-v4-uptodate-dcap-qvl has collateral")
        .collateral;
    let tdx_body = serde_json::to_vec(&StoredTdx::new(&tdx)).unwrap();
    let vcek = std::fs::read(root.join("snp/milan-v2-virtee/vcek.der")).expect("vcek.der");
    let tcb = TcbParts {
        fmc: None,
        bootloader: 3,
        tee: 0,
        snp: 8,
        microcode: 115,
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![(
        "sqlite",
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    if let Ok(pg) = std::env::var("COGITO_BENCH_PG") {
        stores.push(("postgres", pg));
    }
    let out = std::env::var_os("COGITO_BENCH_OUT").map(std::path::PathBuf::from);
    for (name, url) in stores {
        let store: Arc<dyn Store> = Arc::new(runtime.block_on(SqlStore::open(&url)).unwrap());
        let now = cogito_core::VerificationTime::now().unix();
        let tdx_k = tdx_key(&FMSPC, PckCaKind::Platform);
        let vcek_k = vcek_key(&HW_ID, &tcb);
        runtime
            .block_on(store.put_collateral(&tdx_k, &tdx_body, now))
            .unwrap();
        runtime
            .block_on(store.put_collateral(&vcek_k, &vcek, now))
            .unwrap();
        let source = StoreSource::new(store, None, runtime.handle().clone());
        let get_tdx = || {
            let c = source
                .tdx_collateral(black_box(&FMSPC), PckCaKind::Platform)
                .unwrap()
                .expect("stored");
            assert_eq!(c.tcb_info.len(), tdx.tcb_info.len());
        };
        let get_vcek = || {
            let v = source
                .snp_vcek(AmdProduct::Milan, black_box(&HW_ID), &tcb)
                .unwrap()
                .expect("stored");
            assert_eq!(v.len(), vcek.len());
        };
        // (what, its key, a lookup), each timed from the memo and with the
        // memo forgotten first (a store query and, for TDX, decoding).
        let objects: [(String, &str, &dyn Fn()); 2] = [
            (
                format!("TDX collateral ({} B stored)", tdx_body.len()),
                &tdx_k,
                &get_tdx,
            ),
            (format!("SNP VCEK ({} B)", vcek.len()), &vcek_k, &get_vcek),
        ];
        let (rounds, n_memo, n_store) = if smoke { (1, 1, 1) } else { (7, 2000, 200) };
        let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
        let objects = objects.map(|(object, key, get)| {
            get();
            let (mut memo, mut load) = (vec![], vec![]);
            for _ in 0..rounds {
                memo.push(us(mean(n_memo, get)));
                load.push(us(mean(n_store, || {
                    source.forget(key);
                    get();
                })));
            }
            (object, median(memo), median(load))
        });
        for (object, memo, load) in objects {
            println!("{name:<9} {object:<34} memo {memo:>8.2} µs   store {load:>8.1} µs");
            if let Some(dir) = &out {
                let row = serde_json::json!({
                    "section": "store",
                    "store": name,
                    "object": object,
                    "memo_us": memo,
                    "store_us": load,
                });
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join("store.jsonl"))
                    .and_then(|mut f| writeln!(f, "{row}"))
                    .expect("COGITO_BENCH_OUT/store.jsonl");
            }
        }
    }
}
