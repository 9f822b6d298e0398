//! `cogito_policy::load` on arbitrary policy text, with the same text
//! offered as every included reference-value file. Policies arrive from
//! operators and, in the service, through an admin API: loading must never
//! panic, and what loads must be whole (a name, at least one platform, a
//! digest) and answer expiry questions without panicking.
#![no_main]

use cogito_core::time::VerificationTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut include = |_: &str| Ok::<String, String>(text.to_string());
    if let Ok(p) = cogito_policy::load("fuzz.toml", text, &mut include) {
        assert!(!p.name.trim().is_empty());
        assert_eq!(p.digest.len(), 64);
        assert!(p.rules.snp.is_some() || p.rules.tdx.is_some() || p.rules.cca.is_some());
        for at in [i64::MIN, 0, 1_800_000_000, i64::MAX] {
            let _ = p.expiry_notices(VerificationTime::from_unix(at), i64::MAX);
        }
    }
});
