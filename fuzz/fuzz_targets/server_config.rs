//! The service's configuration file on arbitrary text: what
//! `cogito_server::Config::load` does with a file's contents
//! (`Config::from_toml`), then `apply_env` with an empty environment,
//! `validate` and `store_url`; then `apply_env` again with the input's
//! `COGITO_*=value` lines as the environment. An operator's typo must be a
//! refusal, never a panic.
//!
//! Invariants: an empty environment changes nothing; a configuration is
//! still valid or invalid the same way after an environment that sets
//! nothing; values the environment sets are the ones it gave.
#![no_main]

use cogito_server::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = match Config::from_toml(text, "fuzz.toml") {
        Ok(c) => c,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let mut c = parsed.clone();
    c.apply_env(&|_| None)
        .expect("an empty environment is never an error");
    assert_eq!(c, parsed, "an empty environment changed the configuration");
    let valid = c.validate().is_ok();
    let _ = c.store_url();

    // The same text as an environment: lines NAME=value.
    let env: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v))
        .filter(|(k, _)| k.starts_with("COGITO_"))
        .collect();
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let mut e = parsed.clone();
    match e.apply_env(&lookup) {
        Ok(()) => {
            if env.is_empty() {
                assert_eq!(e, parsed);
                assert_eq!(e.validate().is_ok(), valid);
            }
            if let Some(v) = lookup("COGITO_STORE").filter(|v| !v.is_empty()) {
                assert_eq!(e.store.as_deref(), Some(v.as_str()));
                assert_eq!(e.store_url(), v);
            }
            let _ = e.validate();
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
