//! `cogito_tdx::eventlog`: `parse_event_log` on arbitrary bytes, then the
//! replay, the per-RTMR counts and the JSON form of what parsed; and
//! `parse_ccel_table` on the same bytes.
#![no_main]

use cogito_tdx::eventlog::{compare_rtmrs, parse_ccel_table, parse_event_log};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = parse_event_log(data) {
        assert!(log.end_offset <= data.len());
        let rtmrs = log.replay();
        assert_eq!(compare_rtmrs(&rtmrs, &rtmrs), [true; 4]);
        let counts = log.events_per_rtmr();
        assert!(counts.iter().sum::<usize>() <= log.events.len());
        for event in &log.events {
            assert!(event.mr_index <= 4);
            assert!(event.sha384().is_some());
        }
    }
    if let Ok(table) = parse_ccel_table(data) {
        assert_eq!(table.cc_type, 2);
        assert_eq!(table.length as usize, data.len());
    }
});
