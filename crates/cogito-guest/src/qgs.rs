//! The messages of Intel's TDX Quote Generation Service (QGS), which runs
//! on the host and turns a TD report into a quote. Pure encoding and
//! decoding; [`crate::tdx_device`] carries them over vsock.
//!
//! From the DCAP sources' `qgs_msg_lib.h`: every message starts with a
//! header of little-endian fields (`major_version` u16 = 1,
//! `minor_version` u16 = 0, `type` u32, `size` u32 of the whole message,
//! `error_code` u32); a GET_QUOTE_REQ (type 0) adds `report_size` u32,
//! `id_list_size` u32 and the report; a GET_QUOTE_RESP (type 1) adds
//! `selected_id_size` u32, `quote_size` u32, the id and the quote. Over
//! vsock each message is preceded by its length as a big-endian u32.

/// The host's vsock CID.
pub const HOST_CID: u32 = 2;
/// The port QGS listens on by default.
pub const DEFAULT_PORT: u32 = 4050;

const HEADER_LEN: usize = 16;
const GET_QUOTE_REQ: u32 = 0;
const GET_QUOTE_RESP: u32 = 1;
/// The largest response accepted (quotes are a few KiB).
pub const MAX_RESPONSE: usize = 1 << 20;

/// A GET_QUOTE_REQ for a TD report, with its big-endian length prefix.
pub fn get_quote_request(td_report: &[u8]) -> Option<Vec<u8>> {
    let report_len = u32::try_from(td_report.len()).ok()?;
    let size = u32::try_from(HEADER_LEN + 8 + td_report.len()).ok()?;
    let mut out = Vec::with_capacity(4 + HEADER_LEN + 8 + td_report.len());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&GET_QUOTE_REQ.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&report_len.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(td_report);
    Some(out)
}

/// The quote in a GET_QUOTE_RESP (without its length prefix).
pub fn quote_from_response(msg: &[u8]) -> Result<Vec<u8>, String> {
    let word = |at: usize| -> Result<u32, String> {
        msg.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| {
                format!(
                    "the answer is {} bytes, cut short at offset {at}",
                    msg.len()
                )
            })
    };
    let size = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
    let major = msg
        .first_chunk::<2>()
        .map(|b| u16::from_le_bytes(*b))
        .ok_or("an empty answer")?;
    if major != 1 {
        return Err(format!("message version {major}; expected 1"));
    }
    let kind = word(4)?;
    if kind != GET_QUOTE_RESP {
        return Err(format!("message type {kind}; expected GET_QUOTE_RESP (1)"));
    }
    if size(word(8)?) != msg.len() {
        return Err(format!(
            "the header says {} bytes, the message has {}",
            word(8)?,
            msg.len()
        ));
    }
    let error = word(12)?;
    if error != 0 {
        return Err(format!("QGS answered error 0x{error:08x}"));
    }
    let id_len = size(word(16)?);
    let quote_len = size(word(20)?);
    let start = 24usize.saturating_add(id_len);
    let end = start.saturating_add(quote_len);
    if end != msg.len() || quote_len == 0 {
        return Err(format!(
            "selected id ({id_len} bytes) and quote ({quote_len} bytes) do not fill the message ({} bytes)",
            msg.len()
        ));
    }
    msg.get(start..end)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "the quote lies outside the message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(error: u32, quote: &[u8]) -> Vec<u8> {
        let size = (24 + quote.len()) as u32;
        let mut m = vec![];
        m.extend_from_slice(&1u16.to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&size.to_le_bytes());
        m.extend_from_slice(&error.to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes());
        m.extend_from_slice(&(quote.len() as u32).to_le_bytes());
        m.extend_from_slice(quote);
        m
    }

    #[test]
    fn request_layout() {
        let r = get_quote_request(&[7u8; 1024]).unwrap();
        assert_eq!(&r[..4], &(16u32 + 8 + 1024).to_be_bytes());
        assert_eq!(&r[4..8], &[1, 0, 0, 0]);
        assert_eq!(&r[8..12], &[0, 0, 0, 0]);
        assert_eq!(&r[12..16], &(1048u32).to_le_bytes());
        assert_eq!(&r[20..24], &1024u32.to_le_bytes());
        assert_eq!(r.len(), 4 + 1048);
    }

    #[test]
    fn response_parsing() {
        assert_eq!(
            quote_from_response(&response(0, b"quote")).unwrap(),
            b"quote"
        );
        assert!(quote_from_response(&response(0x12001, b"q"))
            .unwrap_err()
            .contains("0x00012001"));
        let mut m = response(0, b"quote");
        m.pop();
        assert!(quote_from_response(&m).is_err());
        assert!(quote_from_response(&[]).is_err());
        assert!(quote_from_response(&response(0, b"")).is_err());
    }
}
