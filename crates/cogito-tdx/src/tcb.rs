//! TCB evaluation for TDX, following Intel's Quote Verification Library:
//! platform TCB level, TDX module identity and TCB, QE TCB, and the
//! convergence of the three into one status (not "worst wins").

use cogito_core::TcbStatus;
use serde::Serialize;

use crate::collateral::{IsvTcbLevel, ModuleIdentity, QeIdentity, TcbInfo, TcbLevel};
use crate::error::TdxError;
use crate::pck::SgxExtensions;

/// The outcome of TCB evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcbEvaluation {
    /// The converged status.
    pub status: TcbStatus,
    /// The matching platform TCB level's status.
    pub platform_status: TcbStatus,
    /// The TDX module's status (module identities with TCB levels only).
    pub module_status: Option<TcbStatus>,
    /// The QE's status.
    pub qe_status: TcbStatus,
    /// The platform level's tcbDate.
    pub tcb_date: String,
    /// Advisory IDs of the platform, module and QE levels (sorted, unique).
    pub advisory_ids: Vec<String>,
    /// TD 1.5: the converged status evaluated with TEE_TCB_SVN2 (the
    /// running module) instead of TEE_TCB_SVN.
    pub status_current_svn2: Option<TcbStatus>,
    /// The TDX module identity used (`TDX_01`, … or `tdxModule`).
    pub module_identity: Option<String>,
}

/// The first platform level (file order is descending) whose SGX
/// components and PCESVN are at most the PCK certificate's and whose TDX
/// components are at most TEE_TCB_SVN. When `TEE_TCB_SVN[1]` (the module's
/// major version) is non-zero, components 0 and 1 are the module's and
/// are judged by the module identity instead, so they are skipped here.
pub fn match_platform<'a>(
    tcb: &'a TcbInfo,
    pck: &SgxExtensions,
    tee_tcb_svn: &[u8; 16],
) -> Option<&'a TcbLevel> {
    let skip = if tee_tcb_svn[1] > 0 { 2 } else { 0 };
    tcb.tcb_levels.iter().find(|l| {
        l.sgx_components
            .iter()
            .zip(pck.cpusvn_components.iter())
            .all(|(min, have)| have >= min)
            && pck.pcesvn >= l.pcesvn
            && l.tdx_components
                .iter()
                .zip(tee_tcb_svn.iter())
                .skip(skip)
                .all(|(min, have)| have >= min)
    })
}

/// The first ISV level whose ISVSVN is at most `isvsvn`.
pub fn match_isv(levels: &[IsvTcbLevel], isvsvn: u16) -> Option<&IsvTcbLevel> {
    levels.iter().find(|l| isvsvn >= l.isvsvn)
}

/// The TDX module identity a TEE_TCB_SVN selects: `TDX_%02X` of
/// `TEE_TCB_SVN[1]` (the module's major version) when it is non-zero and the
/// TCB Info lists identities, else the base `tdxModule` (Intel QVL
/// `TdxModuleCheck.cpp`; identity ids compare case-insensitively).
pub fn select_module<'a>(
    tcb: &'a TcbInfo,
    tee_tcb_svn: &[u8; 16],
) -> Result<Option<&'a ModuleIdentity>, TdxError> {
    let version = tee_tcb_svn[1];
    if version > 0 && !tcb.tdx_module_identities.is_empty() {
        let id = format!("TDX_{version:02X}");
        return tcb
            .tdx_module_identities
            .iter()
            .find(|m| m.id.eq_ignore_ascii_case(&id))
            .map(Some)
            .ok_or_else(|| TdxError::ModuleIdentity {
                detail: format!(
                    "TCB Info has no module identity {id} (TEE_TCB_SVN[1] = {version})"
                ),
            });
    }
    Ok(tcb.tdx_module.as_ref())
}

/// Picks the module identity of TEE_TCB_SVN (the module the TD was
/// launched on; Intel QVL `QuoteVerifier.cpp` checks this one, never
/// TEE_TCB_SVN2's) and checks it: MRSIGNERSEAM equals its mrsigner, and
/// SEAMATTRIBUTES equal its attributes under the mask with every bit
/// outside the mask zero (Intel requires all-zero SEAMATTRIBUTES; this is
/// the same for Intel's published mask and stricter than a bare masked
/// compare for any other).
pub fn check_module<'a>(
    tcb: &'a TcbInfo,
    tee_tcb_svn: &[u8; 16],
    mr_signer_seam: &[u8; 48],
    seam_attributes: &[u8; 8],
) -> Result<Option<&'a ModuleIdentity>, TdxError> {
    let Some(m) = select_module(tcb, tee_tcb_svn)? else {
        return Ok(None);
    };
    if &m.mrsigner != mr_signer_seam {
        return Err(TdxError::ModuleIdentity {
            detail: format!(
                "MRSIGNERSEAM {} differs from {} mrsigner {}",
                hex::encode(mr_signer_seam),
                m.id,
                hex::encode(m.mrsigner)
            ),
        });
    }
    let attributes_fit = seam_attributes
        .iter()
        .zip(m.attributes.iter().zip(m.attributes_mask.iter()))
        .all(|(have, (want, mask))| have & mask == want & mask && have & !mask == 0);
    if !attributes_fit {
        return Err(TdxError::ModuleIdentity {
            detail: format!(
                "SEAMATTRIBUTES {} differ from {} attributes {} under mask {} (bits outside the mask must be zero)",
                hex::encode(seam_attributes),
                m.id,
                hex::encode(m.attributes),
                hex::encode(m.attributes_mask)
            ),
        });
    }
    Ok(Some(m))
}

/// Whether a status asks for a configuration change (Intel QVL
/// `TDRelaunchCheck.cpp`, `isConfigurationNeeded`).
fn needs_configuration(s: TcbStatus) -> bool {
    use TcbStatus::*;
    matches!(
        s,
        ConfigurationNeeded
            | OutOfDateConfigurationNeeded
            | ConfigurationAndSWHardeningNeeded
            | TDRelaunchAdvisedConfigurationNeeded
    )
}

/// Intel QVL `checkForRelaunch` (TDRelaunchCheck.cpp, since the "TD
/// Preserving Endorsements" change of May 2026; dcap-qvl 0.7 ports it line
/// for line): a TD launched on an out-of-date TCB whose current TCB
/// (TEE_TCB_SVN2, after a TD-preserving module update) is not out of date
/// should be relaunched to benefit; the ConfigurationNeeded variant when
/// either status needs configuration. Otherwise the launch status stands.
pub fn check_for_relaunch(launch: TcbStatus, current: TcbStatus) -> TcbStatus {
    use TcbStatus::*;
    let launch_out_of_date = matches!(launch, OutOfDate | OutOfDateConfigurationNeeded);
    let current_fine = matches!(
        current,
        UpToDate | SWHardeningNeeded | ConfigurationNeeded | ConfigurationAndSWHardeningNeeded
    );
    if !(launch_out_of_date && current_fine) {
        return launch;
    }
    if needs_configuration(launch) || needs_configuration(current) {
        TDRelaunchAdvisedConfigurationNeeded
    } else {
        TDRelaunchAdvised
    }
}

/// Folds a component's status into the platform's (QVL convergence): an
/// out-of-date module or QE makes an up-to-date platform OutOfDate and a
/// configuration-needing one OutOfDateConfigurationNeeded; a revoked one
/// revokes; otherwise the platform's status stands.
pub fn converge(platform: TcbStatus, component: TcbStatus) -> TcbStatus {
    use TcbStatus::*;
    match component {
        Revoked => Revoked,
        OutOfDate | OutOfDateConfigurationNeeded => match platform {
            UpToDate | SWHardeningNeeded => OutOfDate,
            ConfigurationNeeded | ConfigurationAndSWHardeningNeeded => OutOfDateConfigurationNeeded,
            other => other,
        },
        _ => platform,
    }
}

/// Platform + module status for one TEE_TCB_SVN value.
fn platform_and_module<'a>(
    tcb: &'a TcbInfo,
    pck: &SgxExtensions,
    tee_tcb_svn: &[u8; 16],
    module: Option<&'a ModuleIdentity>,
) -> Result<(TcbStatus, &'a TcbLevel, Option<&'a IsvTcbLevel>), TdxError> {
    let level = match_platform(tcb, pck, tee_tcb_svn).ok_or_else(|| TdxError::NoTcbLevel {
        detail: format!(
            "PCK CPUSVN components {:?}, PCESVN {}, TEE_TCB_SVN {} are below every TCB level of FMSPC {}",
            pck.cpusvn_components,
            pck.pcesvn,
            hex::encode(tee_tcb_svn),
            tcb.fmspc
        ),
    })?;
    let mut status = level.tcb_status;
    let mut module_level = None;
    if let Some(m) = module {
        if !m.tcb_levels.is_empty() {
            let ml = match_isv(&m.tcb_levels, u16::from(tee_tcb_svn[0])).ok_or_else(|| {
                TdxError::NoTcbLevel {
                    detail: format!(
                        "TDX module {} ISVSVN {} is below every module TCB level",
                        m.id, tee_tcb_svn[0]
                    ),
                }
            })?;
            status = converge(status, ml.tcb_status);
            module_level = Some(ml);
        }
    }
    Ok((status, level, module_level))
}

/// Evaluates the TCB of a quote.
pub fn evaluate(
    tcb: &TcbInfo,
    qe: &QeIdentity,
    pck: &SgxExtensions,
    tee_tcb_svn: &[u8; 16],
    tee_tcb_svn2: Option<&[u8; 16]>,
    module: Option<&ModuleIdentity>,
    qe_isvsvn: u16,
) -> Result<TcbEvaluation, TdxError> {
    let (platform_module, level, module_level) =
        platform_and_module(tcb, pck, tee_tcb_svn, module)?;
    let qe_level = match_isv(&qe.tcb_levels, qe_isvsvn).ok_or_else(|| TdxError::NoTcbLevel {
        detail: format!("QE ISVSVN {qe_isvsvn} is below every QE Identity TCB level"),
    })?;
    let mut status = converge(platform_module, qe_level.tcb_status);

    // TD 1.5 and TD 1.5 extended (Intel QVL TcbLevelCheck.cpp: body type
    // >= 3): TEE_TCB_SVN is the TCB the TD was launched on, TEE_TCB_SVN2
    // the one running now after TD-preserving updates. The current status
    // is evaluated like the launch one — PCK CPUSVN and PCESVN, the module
    // identity of TEE_TCB_SVN2[1], the QE folded in — and a current TCB that
    // matches no level fails the verification, as in Intel's QVL — also an
    // all-zero TEE_TCB_SVN2 (a module that reported none), which matches no
    // level: a TD 1.5 body must show its current TCB. One choice of
    // cogito's, failing closed: a Revoked current TCB refuses the quote (as
    // dcap-qvl does; Intel's checkForRelaunch would report the launch
    // status).
    let status_current_svn2 = match tee_tcb_svn2 {
        Some(svn2) => {
            let current_module = select_module(tcb, svn2)?;
            let (s, _, _) = platform_and_module(tcb, pck, svn2, current_module)?;
            let current = converge(s, qe_level.tcb_status);
            status = if current == TcbStatus::Revoked {
                TcbStatus::Revoked
            } else {
                check_for_relaunch(status, current)
            };
            Some(current)
        }
        _ => None,
    };

    let mut advisory_ids: Vec<String> = level
        .advisory_ids
        .iter()
        .chain(module_level.map(|m| &m.advisory_ids).into_iter().flatten())
        .chain(qe_level.advisory_ids.iter())
        .cloned()
        .collect();
    advisory_ids.sort();
    advisory_ids.dedup();
    Ok(TcbEvaluation {
        status,
        platform_status: level.tcb_status,
        module_status: module_level.map(|m| m.tcb_status),
        qe_status: qe_level.tcb_status,
        tcb_date: level.tcb_date.clone(),
        advisory_ids,
        status_current_svn2,
        module_identity: module.map(|m| m.id.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TcbStatus::*;

    #[test]
    fn relaunch_follows_intels_check_for_relaunch() {
        let all = TcbStatus::ALL.into_iter().filter(|s| s.is_intel());
        for launch in all.clone() {
            for current in all.clone() {
                let got = check_for_relaunch(launch, current);
                let expected = match (launch, current) {
                    (
                        OutOfDate | OutOfDateConfigurationNeeded,
                        UpToDate
                        | SWHardeningNeeded
                        | ConfigurationNeeded
                        | ConfigurationAndSWHardeningNeeded,
                    ) => {
                        if launch == OutOfDateConfigurationNeeded
                            || matches!(
                                current,
                                ConfigurationNeeded | ConfigurationAndSWHardeningNeeded
                            )
                        {
                            TDRelaunchAdvisedConfigurationNeeded
                        } else {
                            TDRelaunchAdvised
                        }
                    }
                    _ => launch,
                };
                assert_eq!(got, expected, "launch {launch:?}, current {current:?}");
            }
        }
        // The case the previous rule got wrong: a launch TCB that needs
        // configuration keeps saying so after an update.
        assert_eq!(
            check_for_relaunch(OutOfDateConfigurationNeeded, UpToDate),
            TDRelaunchAdvisedConfigurationNeeded
        );
    }

    #[test]
    fn convergence_is_not_worst_wins() {
        assert_eq!(converge(UpToDate, UpToDate), UpToDate);
        assert_eq!(converge(UpToDate, OutOfDate), OutOfDate);
        assert_eq!(converge(SWHardeningNeeded, OutOfDate), OutOfDate);
        assert_eq!(
            converge(ConfigurationNeeded, OutOfDate),
            OutOfDateConfigurationNeeded
        );
        assert_eq!(
            converge(ConfigurationAndSWHardeningNeeded, OutOfDate),
            OutOfDateConfigurationNeeded
        );
        assert_eq!(converge(ConfigurationNeeded, UpToDate), ConfigurationNeeded);
        assert_eq!(converge(SWHardeningNeeded, UpToDate), SWHardeningNeeded);
        assert_eq!(converge(UpToDate, Revoked), Revoked);
        assert_eq!(converge(OutOfDate, SWHardeningNeeded), OutOfDate);
    }
}
