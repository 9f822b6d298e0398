//! The one module with `unsafe` code: the legacy devices' ioctls and the
//! vsock socket to the host's TDX quote service. Each `unsafe` block hands
//! the kernel a pointer to a `#[repr(C)]` struct laid out as the kernel's
//! UAPI header declares it, owned by the caller and alive for the call;
//! every size the kernel reads is the size of that struct. Nothing else
//! in the crate may use `unsafe`.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};

/// `_IOWR(type, nr, size)` of `<asm-generic/ioctl.h>`: direction bits
/// 3 (read and write) at 30, the size at 16, the type at 8, the number at 0.
// The sizes here are small compile-time constants (≤ 1088 bytes), and a
// const fn cannot call `From`.
#[allow(clippy::as_conversions)]
const fn iowr(kind: u8, nr: u8, size: usize) -> u64 {
    let size = size as u64;
    (3u64 << 30) | (size << 16) | ((kind as u64) << 8) | (nr as u64)
}

/// `struct snp_guest_request_ioctl` of `<uapi/linux/sev-guest.h>`.
#[repr(C)]
#[derive(Debug, Default)]
pub struct SnpGuestRequest {
    /// The message version (1).
    pub msg_version: u8,
    /// The request's address.
    pub req_data: u64,
    /// The response's address.
    pub resp_data: u64,
    /// Firmware error (low 32 bits) and hypervisor error (high 32 bits).
    pub exitinfo2: u64,
}

/// `struct snp_report_req`.
#[repr(C)]
#[derive(Debug)]
pub struct SnpReportReq {
    /// REPORT_DATA.
    pub user_data: [u8; 64],
    /// The VMPL.
    pub vmpl: u32,
    /// Reserved, zero.
    pub rsvd: [u8; 28],
}

/// `struct snp_report_resp`: the firmware's MSG_REPORT_RSP.
#[repr(C)]
#[derive(Debug)]
pub struct SnpReportResp {
    /// The message.
    pub data: [u8; 4000],
}

/// `struct snp_ext_report_req`.
#[repr(C)]
#[derive(Debug)]
pub struct SnpExtReportReq {
    /// The report request.
    pub data: SnpReportReq,
    /// The certificate buffer's address.
    pub certs_address: u64,
    /// Its length (a multiple of the page size); the kernel writes the
    /// length it needs when it is too short.
    pub certs_len: u32,
}

/// `SNP_GET_REPORT`.
pub const SNP_GET_REPORT: u64 = iowr(b'S', 0x0, std::mem::size_of::<SnpGuestRequest>());
/// `SNP_GET_EXT_REPORT`.
pub const SNP_GET_EXT_REPORT: u64 = iowr(b'S', 0x2, std::mem::size_of::<SnpGuestRequest>());

/// `struct tdx_report_req` of `<uapi/linux/tdx-guest.h>`.
#[repr(C)]
#[derive(Debug)]
pub struct TdxReportReq {
    /// REPORTDATA.
    pub reportdata: [u8; 64],
    /// The TDREPORT the module writes.
    pub tdreport: [u8; 1024],
}

/// `TDX_CMD_GET_REPORT0`.
pub const TDX_CMD_GET_REPORT0: u64 = iowr(b'T', 0x1, std::mem::size_of::<TdxReportReq>());

/// Calls `ioctl(fd, request, arg)`; the errno on failure.
///
/// `T` must be the struct the kernel expects for `request` (the encoded
/// size says which): the kernel reads and writes exactly that many bytes
/// through the pointer.
pub fn ioctl<T>(file: &std::fs::File, request: u64, arg: &mut T) -> std::io::Result<()> {
    let ptr: *mut T = arg;
    // SAFETY: `file` is an open descriptor for the call's duration; `ptr`
    // points to a live, exclusively borrowed `T` whose layout is the UAPI
    // struct `request` encodes (each constant above is built from the size
    // of the struct it goes with). The request argument's C type differs
    // between libcs (c_ulong or c_int), hence the inferred conversion.
    #[allow(clippy::as_conversions, clippy::useless_conversion)]
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, ptr) };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The address of a buffer, as the kernel's UAPI structs carry it.
pub fn address_of<T: ?Sized>(buffer: &mut T) -> u64 {
    let ptr: *mut u8 = std::ptr::from_mut(buffer).cast();
    // A pointer into our own address space, handed to the kernel as the
    // u64 the UAPI field is.
    #[allow(clippy::as_conversions)]
    let address = ptr as usize as u64;
    address
}

/// A connected `AF_VSOCK` stream socket to (`cid`, `port`), with send and
/// receive timeouts.
pub fn vsock_connect(
    cid: u32,
    port: u32,
    timeout: std::time::Duration,
) -> std::io::Result<std::fs::File> {
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_VSOCK, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: 0,
    };
    for option in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: `tv` is a live timeval and the length passed is its size.
        #[allow(clippy::as_conversions)]
        let rc = unsafe {
            libc::setsockopt(
                owned.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                std::ptr::from_ref(&tv).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // SAFETY: sockaddr_vm is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_vm = unsafe { std::mem::zeroed() };
    #[allow(clippy::as_conversions)]
    {
        addr.svm_family = libc::AF_VSOCK as libc::sa_family_t;
    }
    addr.svm_cid = cid;
    addr.svm_port = port;
    // SAFETY: `addr` is a live sockaddr_vm and the length is its size.
    #[allow(clippy::as_conversions)]
    let rc = unsafe {
        libc::connect(
            owned.as_raw_fd(),
            std::ptr::from_ref(&addr).cast(),
            std::mem::size_of::<libc::sockaddr_vm>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(std::fs::File::from(owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_the_kernel_headers() {
        // As <uapi/linux/sev-guest.h> and <uapi/linux/tdx-guest.h> expand
        // on x86_64.
        assert_eq!(std::mem::size_of::<SnpGuestRequest>(), 32);
        assert_eq!(SNP_GET_REPORT, 0xC020_5300);
        assert_eq!(SNP_GET_EXT_REPORT, 0xC020_5302);
        assert_eq!(std::mem::size_of::<SnpReportReq>(), 96);
        assert_eq!(std::mem::size_of::<SnpExtReportReq>(), 112);
        assert_eq!(std::mem::size_of::<TdxReportReq>(), 1088);
        assert_eq!(TDX_CMD_GET_REPORT0, 0xC440_5401);
    }
}
