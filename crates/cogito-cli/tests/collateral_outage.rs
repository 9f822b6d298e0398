//! The vendor's collateral service is down or throttling (a mock AMD KDS
//! that answers 503 or 429): guests without collateral of their own are
//! refused at once with 503 and the reason, the vendor is asked once per
//! backoff period however many guests wait (single flight), the VCEK once
//! fetched keeps serving through the next outage, and made-up chips cannot
//! make the service hammer the vendor (a budget on all fetches).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cogito_core::AmdProduct;
use cogito_protocol::Kem;
use cogito_testkit::report::offset;
use cogito_testkit::LiveSnp;
use support::*;

/// An SNP round trip without the certificate table: the service must find
/// the VCEK itself. `chip` replaces CHIP_ID when given.
fn attest_bare(c: &Client, world: &World, chip: Option<[u8; 64]>) -> Answer {
    let key = GuestKey::new(Kem::X25519);
    let nonce = c.challenge("snp");
    let (report, _) = world.snp.evidence_edited(
        key.report_data(&nonce),
        LiveSnp::measurement_default(),
        |r| {
            if let Some(chip) = chip {
                r[offset::CHIP_ID..offset::CHIP_ID + 64].copy_from_slice(&chip);
            }
        },
    );
    c.attest(&request(&nonce, &report, &key, None, &["disk-key"]))
}

fn in_parallel(n: usize, f: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Vec<Answer> {
    let f = Arc::new(f);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let f = f.clone();
            std::thread::spawn(move || f(i))
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn a_vendor_outage_is_survived_without_hammering_the_vendor() {
    let tmp = tempfile::tempdir().unwrap();
    let world = Arc::new(World::new());
    let chip = cogito_testkit::vectors::hw_id(AmdProduct::Genoa, "a");
    let kds = MockKds::start_for(world.snp.vcek_der().to_vec(), Some(hex(&chip)));
    let args = world.online_files(tmp.path(), &kds.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.path().join("data"), &args);
    server.fleet_secret(tmp.path(), "disk-key", b"k");
    let url = server.url.clone();
    let ca = server.data_dir.join("tls/cert.pem");
    let client = move || Client::new(&url, &ca);

    // 1. The vendor is down, nothing is cached: eight guests at once are
    // refused with 503 and the reason; the vendor saw one flight (its
    // retries), not one per guest.
    kds.mode.store(MockKds::DOWN, Ordering::SeqCst);
    let (w, cl) = (world.clone(), client.clone());
    let answers = in_parallel(8, move |_| attest_bare(&cl(), &w, None));
    for a in &answers {
        let p = a.problem();
        assert_eq!(a.status, 503, "{p:?}");
        assert!(a.headers.get("retry-after").is_some());
        assert!(
            p.detail.contains("snp/vcek/") || p.detail.contains("KDS"),
            "the refusal names the collateral: {p:?}"
        );
    }
    let first_outage = kds.requests.load(Ordering::SeqCst);
    // The service's KDS client tries 4 times per fetch.
    assert!(
        (1..=4).contains(&first_outage),
        "{first_outage} vendor requests for 8 guests"
    );
    // Within the backoff, guests are refused at once, the vendor unasked.
    let started = Instant::now();
    let a = attest_bare(&client(), &world, None);
    assert_eq!(a.status, 503);
    assert!(
        a.problem().detail.contains("not asked again"),
        "{:?}",
        a.problem()
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(kds.requests.load(Ordering::SeqCst), first_outage);

    // 2. Throttled (429) after the backoff: the same.
    kds.mode.store(MockKds::BUSY, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(2100));
    let a = attest_bare(&client(), &world, None);
    assert_eq!(a.status, 503, "{:?}", a.problem());
    let after_busy = kds.requests.load(Ordering::SeqCst);
    assert!(after_busy > first_outage && after_busy <= first_outage + 4);

    // 3. Back: after the (now doubled) backoff the VCEK is fetched once
    // and the guests get their secret.
    kds.mode.store(MockKds::UP, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(4100));
    let (w, cl) = (world.clone(), client.clone());
    let answers = in_parallel(8, move |_| attest_bare(&cl(), &w, None));
    for a in &answers {
        accepted(a);
    }
    assert_eq!(kds.vcek_requests.load(Ordering::SeqCst), 1);

    // 4. Down again: the cached VCEK (it never changes) keeps serving, and
    // the vendor is not asked.
    kds.mode.store(MockKds::DOWN, Ordering::SeqCst);
    let before = kds.requests.load(Ordering::SeqCst);
    for _ in 0..5 {
        accepted(&attest_bare(&client(), &world, None));
    }
    assert_eq!(kds.requests.load(Ordering::SeqCst), before);

    // 5. Made-up chips, each a fetch the cache cannot answer: the vendor
    // sees no more than the fetch budget (20 a second, 20 at once).
    kds.mode.store(MockKds::UP, Ordering::SeqCst);
    let before = kds.requests.load(Ordering::SeqCst);
    let started = Instant::now();
    let (w, cl) = (world.clone(), client.clone());
    let answers = in_parallel(8, move |i| {
        let c = cl();
        let mut last = None;
        for j in 0..10 {
            let mut chip = [0u8; 64];
            chip[0] = 0xee;
            chip[1] = i as u8;
            chip[2] = j as u8;
            last = Some(attest_bare(&c, &w, Some(chip)));
        }
        last.unwrap()
    });
    let elapsed = started.elapsed().as_secs_f64();
    for a in &answers {
        assert!(
            matches!(a.status, 422 | 503),
            "a made-up chip: {:?}",
            a.problem()
        );
    }
    let asked = kds.requests.load(Ordering::SeqCst) - before;
    let budget = 20 + (20.0 * elapsed).ceil() as usize;
    assert!(
        asked <= budget,
        "80 made-up chips in {elapsed:.2} s made {asked} vendor requests (budget {budget})"
    );
    eprintln!(
        "outage: {first_outage} vendor requests for 8 guests; made-up chips: {asked} requests for 80 in {elapsed:.2} s"
    );
}
