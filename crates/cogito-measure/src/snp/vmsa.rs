//! The initial VMSA pages, as the VMM hands them to SNP_LAUNCH_UPDATE.
//!
//! The layout is the SEV-ES save area of the AMD64 APM Vol. 2, Appendix B,
//! Table B-4 (VMSA layout); the values are the x86 reset state as each VMM
//! sets it up (QEMU via KVM `sev_es_sync_vmsa`, and the two public clouds'
//! VMMs, which differ in a few segment attributes, RDX, PAT and FPU state).

use super::gctx::PAGE;
use super::VmmType;

/// EIP of the bootstrap processor: the x86 reset vector.
pub(crate) const BSP_EIP: u32 = 0xFFFF_FFF0;

// Offsets in the save area (APM Vol. 2, Table B-4).
const ES: usize = 0x000;
const CS: usize = 0x010;
const SS: usize = 0x020;
const DS: usize = 0x030;
const FS: usize = 0x040;
const GS: usize = 0x050;
const GDTR: usize = 0x060;
const LDTR: usize = 0x070;
const IDTR: usize = 0x080;
const TR: usize = 0x090;
const EFER: usize = 0x0D0;
const CR4: usize = 0x148;
const CR0: usize = 0x158;
const DR7: usize = 0x160;
const DR6: usize = 0x168;
const RFLAGS: usize = 0x170;
const RIP: usize = 0x178;
const G_PAT: usize = 0x268;
const RDX: usize = 0x310;
const SEV_FEATURES: usize = 0x3B0;
const XCR0: usize = 0x3E8;
const MXCSR: usize = 0x408;
const X87_FCW: usize = 0x410;

/// One save area under construction; every offset written is a constant
/// inside the page, so the writes cannot go out of bounds.
struct Page([u8; PAGE]);

impl Page {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        if let Some(dst) = self.0.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
    fn u64(&mut self, at: usize, v: u64) {
        self.put(at, &v.to_le_bytes());
    }
    /// A VMCB segment register: selector, attributes, limit, base.
    fn seg(&mut self, at: usize, selector: u16, attrib: u16, limit: u32, base: u64) {
        self.put(at, &selector.to_le_bytes());
        self.put(at + 2, &attrib.to_le_bytes());
        self.put(at + 4, &limit.to_le_bytes());
        self.put(at + 8, &base.to_le_bytes());
    }
}

/// The save area of a vCPU starting at `eip`.
pub(crate) fn save_area(eip: u32, sev_features: u64, vcpu_sig: u32, vmm: VmmType) -> [u8; PAGE] {
    // What differs between VMMs: CS/SS/TR attributes, RDX at reset (QEMU
    // passes the CPUID signature, the clouds 0x600), PAT and FPU defaults.
    let (cs_attr, ss_attr, tr_attr, rdx, g_pat, mxcsr, fcw) = match vmm {
        VmmType::Qemu => (
            0x9b,
            0x93,
            0x8b,
            u64::from(vcpu_sig),
            0x0007_0406_0007_0406,
            0x1f80_u32,
            0x37f_u16,
        ),
        // EC2 marks the BSP's code segment not-yet-accessed.
        VmmType::Ec2 => (
            if eip == BSP_EIP { 0x9a } else { 0x9b },
            0x92,
            0x83,
            0x600,
            0x0007_0406_0007_0406,
            0,
            0,
        ),
        // GCE overrides the PAT reset value.
        VmmType::Gce => (0x9b, 0x93, 0x8b, 0x600, 0x0007_0106, 0, 0),
    };
    let mut p = Page([0u8; PAGE]);
    p.seg(ES, 0, 0x93, 0xffff, 0);
    p.seg(CS, 0xf000, cs_attr, 0xffff, u64::from(eip & 0xffff_0000));
    p.seg(SS, 0, ss_attr, 0xffff, 0);
    p.seg(DS, 0, 0x93, 0xffff, 0);
    p.seg(FS, 0, 0x93, 0xffff, 0);
    p.seg(GS, 0, 0x93, 0xffff, 0);
    p.seg(GDTR, 0, 0, 0xffff, 0);
    p.seg(LDTR, 0, 0x82, 0xffff, 0);
    p.seg(IDTR, 0, 0, 0xffff, 0);
    p.seg(TR, 0, tr_attr, 0xffff, 0);
    p.u64(EFER, 0x1000); // EFER.SVME, set by KVM
    p.u64(CR4, 0x40); // CR4.MCE, set by KVM
    p.u64(CR0, 0x10); // CR0.ET
    p.u64(DR7, 0x400);
    p.u64(DR6, 0xffff_0ff0);
    p.u64(RFLAGS, 0x2);
    p.u64(RIP, u64::from(eip & 0xffff));
    p.u64(G_PAT, g_pat);
    p.u64(RDX, rdx);
    p.u64(SEV_FEATURES, sev_features);
    p.u64(XCR0, 0x1);
    p.put(MXCSR, &mxcsr.to_le_bytes());
    p.put(X87_FCW, &fcw.to_le_bytes());
    p.0
}
