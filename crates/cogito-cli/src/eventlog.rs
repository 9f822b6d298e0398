//! `cogito eventlog FILE`: replay a TDX CC event log on its own.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use cogito_tdx::eventlog::{parse_ccel_table, parse_event_log, CcelTable, DecodedEvent, EventLog};
use serde_json::json;

use crate::failure::Failure;
use crate::files::read;
use crate::out::{out, outln};
use crate::output::{self, Format};

#[derive(Args, Debug)]
#[command(after_help = crate::EXIT_CODES_HELP)]
pub struct EventlogArgs {
    /// The event log (the CCEL log area, e.g. /sys/firmware/acpi/tables/data/CCEL).
    pub file: PathBuf,
    /// The CCEL ACPI table (e.g. /sys/firmware/acpi/tables/CCEL), to check
    /// it and print its log area.
    #[arg(long, value_name = "FILE")]
    pub acpi_table: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn describe(decoded: &Option<DecodedEvent>) -> String {
    match decoded {
        None => String::new(),
        Some(d) => match serde_json::to_value(d) {
            Ok(v) => {
                let text = v
                    .get("text")
                    .and_then(|t| t.get("text").or(Some(t)))
                    .and_then(|t| t.as_str())
                    .map(str::to_string);
                let s = text
                    .or_else(|| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .or_else(|| {
                        v.get("description")
                            .and_then(|n| n.as_str())
                            .map(str::to_string)
                    })
                    .or_else(|| {
                        v.get("file_path")
                            .and_then(|n| n.as_str())
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                let s: String = s.chars().filter(|c| !c.is_control()).take(100).collect();
                s
            }
            Err(_) => String::new(),
        },
    }
}

fn render_text(log: &EventLog, rtmrs: &[[u8; 48]; 4]) -> String {
    let mut o = String::new();
    let counts = log.events_per_rtmr();
    let _ = writeln!(
        o,
        "REPLAYED  {} events (log ends at offset {:#x})",
        log.events.len(),
        log.end_offset
    );
    for (i, (r, n)) in rtmrs.iter().zip(counts).enumerate() {
        let _ = writeln!(o, "  RTMR{i}  {}  ({n} events)", hex::encode(r));
    }
    let _ = writeln!(o, "events:");
    for e in &log.events {
        let digest = e
            .sha384()
            .map(|d| hex::encode(&d[..8]))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            o,
            "  {:>4} {:<6} {:<36} {}…  {}",
            e.index,
            e.register,
            e.event_type_name.unwrap_or("?"),
            digest,
            describe(&e.decoded)
        );
    }
    o
}

fn load(args: &EventlogArgs) -> Result<(EventLog, Option<CcelTable>), Failure> {
    let bytes = read(&args.file)?;
    let table = match &args.acpi_table {
        None => None,
        Some(p) => Some(parse_ccel_table(&read(p)?)?),
    };
    Ok((parse_event_log(&bytes)?, table))
}

pub fn run(args: &EventlogArgs) -> i32 {
    let (log, table) = match load(args) {
        Ok(x) => x,
        Err(f) => {
            let class = f.class;
            let r = Err(f);
            match args.format {
                Format::Text => output::print_text(&r),
                Format::Json => output::print_json(&r),
            }
            return class.exit_code();
        }
    };
    let rtmrs = log.replay();
    match args.format {
        Format::Text => {
            if let Some(t) = &table {
                outln!(
                    "CCEL table: CC type {}, log area {} bytes at {:#x}",
                    t.cc_type,
                    t.laml,
                    t.lasa
                );
            }
            out!("{}", render_text(&log, &rtmrs));
        }
        Format::Json => output::print_value(&json!({
            "verdict": "replayed",
            "ccel_table": table,
            "rtmr": rtmrs.iter().map(hex::encode).collect::<Vec<_>>(),
            "events_per_rtmr": log.events_per_rtmr(),
            "log": log,
        })),
    }
    0
}
