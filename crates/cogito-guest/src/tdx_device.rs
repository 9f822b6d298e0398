//! `/dev/tdx_guest`, for kernels without configfs-tsm: the
//! `TDX_CMD_GET_REPORT0` ioctl makes a TD report, which only the host can
//! turn into a quote. The host's Quote Generation Service is asked over
//! vsock ([`crate::qgs`]); when it cannot be reached, the error says so and
//! names the address.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::attester::{check_evidence, Attester, Evidence, EvidenceError, Tee};
use crate::ioctl::{ioctl, vsock_connect, TdxReportReq, TDX_CMD_GET_REPORT0};
use crate::qgs;

/// The default device.
pub const DEFAULT_DEVICE: &str = "/dev/tdx_guest";

/// The `/dev/tdx_guest` attester.
#[derive(Debug, Clone)]
pub struct TdxDeviceAttester {
    device: PathBuf,
    qgs_port: u32,
    timeout: Duration,
    event_log: Option<PathBuf>,
}

impl TdxDeviceAttester {
    /// Uses `device` (normally [`DEFAULT_DEVICE`]); fails when it cannot be
    /// opened.
    pub fn open(device: &Path) -> Result<TdxDeviceAttester, EvidenceError> {
        crate::attester::open_device(device)?;
        Ok(TdxDeviceAttester {
            device: device.to_path_buf(),
            qgs_port: qgs::DEFAULT_PORT,
            timeout: Duration::from_secs(30),
            event_log: None,
        })
    }

    /// The vsock port of the host's QGS (default 4050).
    pub fn with_qgs_port(mut self, port: u32) -> TdxDeviceAttester {
        self.qgs_port = port;
        self
    }

    /// Reads the CC event log from this file when it is readable.
    pub fn with_event_log(mut self, path: Option<PathBuf>) -> TdxDeviceAttester {
        self.event_log = path;
        self
    }

    fn quote(&self, td_report: &[u8]) -> Result<Vec<u8>, EvidenceError> {
        let address = format!("vsock CID {} port {}", qgs::HOST_CID, self.qgs_port);
        let unreachable = |problem: String| EvidenceError::QuoteServiceUnreachable {
            interface: self.interface(),
            address: address.clone(),
            problem,
        };
        let mut sock = vsock_connect(qgs::HOST_CID, self.qgs_port, self.timeout)
            .map_err(|e| unreachable(e.to_string()))?;
        let request = qgs::get_quote_request(td_report)
            .ok_or_else(|| unreachable("the TD report is too large".into()))?;
        sock.write_all(&request)
            .map_err(|e| unreachable(format!("sending: {e}")))?;
        let mut len = [0u8; 4];
        sock.read_exact(&mut len)
            .map_err(|e| unreachable(format!("reading the answer's length: {e}")))?;
        let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
        if len > qgs::MAX_RESPONSE {
            return Err(unreachable(format!("an answer of {len} bytes")));
        }
        let mut msg = vec![0u8; len];
        sock.read_exact(&mut msg)
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?;
        qgs::quote_from_response(&msg).map_err(|problem| EvidenceError::Interface {
            interface: format!("{} (QGS at {address})", self.interface()),
            problem,
        })
    }
}

impl Attester for TdxDeviceAttester {
    fn tee(&self) -> Tee {
        Tee::Tdx
    }

    fn interface(&self) -> String {
        self.device.display().to_string()
    }

    fn evidence(&self, report_data: &[u8; 64]) -> Result<Evidence, EvidenceError> {
        let file = crate::attester::open_device(&self.device)?;
        let mut req = TdxReportReq {
            reportdata: *report_data,
            tdreport: [0; 1024],
        };
        ioctl(&file, TDX_CMD_GET_REPORT0, &mut req).map_err(|source| EvidenceError::Io {
            path: self.interface(),
            what: "TDX_CMD_GET_REPORT0",
            source,
        })?;
        let quote = self.quote(&req.tdreport)?;
        check_evidence(Tee::Tdx, &self.interface(), &quote, report_data)?;
        let event_log = self
            .event_log
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .filter(|b| !b.is_empty());
        Ok(Evidence {
            tee: Tee::Tdx,
            interface: format!("{} + QGS", self.interface()),
            evidence: quote,
            cert_table: None,
            event_log,
        })
    }
}
