#!/bin/bash
# dracut module "cogito": a guest that unlocks its LUKS volumes at boot
# with keys that cogito serve releases after verifying the guest's
# attestation evidence. The guide is docs/guest.md.
#
# Install it (from the cogito source tree):
#   install -d /usr/lib/dracut/modules.d/90cogito
#   install -m 0755 contrib/dracut/90cogito/module-setup.sh /usr/lib/dracut/modules.d/90cogito/
#   install -m 0644 contrib/systemd/cogito-unlock@.service /usr/lib/dracut/modules.d/90cogito/
#   install -m 0755 contrib/cogito-unlock /usr/lib/dracut/modules.d/90cogito/
# then, with cogito-guest on PATH and /etc/cogito/guest.conf filled in:
#   echo 'add_dracutmodules+=" cogito "' > /etc/dracut.conf.d/90-cogito.conf
#   dracut -f
#
# What goes into the initramfs: /usr/bin/cogito-guest, /etc/cogito/guest.conf
# (and the CA certificate it names, if any), the unit
# cogito-unlock@.service, enabled for each volume of COGITO_VOLUMES, the
# helper /usr/libexec/cogito/cogito-unlock, sys-kernel-config.mount (for
# configfs-tsm) and the TEE guest drivers that are modules.

# Variables that dracut sets for its modules (initdir, moddir,
# systemdsystemunitdir, SYSTEMCTL, dracutsysrootdir):
# shellcheck disable=SC2154

cogito_conf=/etc/cogito/guest.conf

# A file of this module: the copy next to module-setup.sh, else the one
# installed on the system (for a unit or helper installed by a package).
cogito_source() {
    local name=$1 system=$2
    if [[ -e "$moddir/$name" ]]; then
        printf '%s\n' "$moddir/$name"
    elif [[ -e "${dracutsysrootdir-}$system" ]]; then
        printf '%s\n' "${dracutsysrootdir-}$system"
    else
        return 1
    fi
}

# Reads guest.conf in a subshell (it is a shell fragment) and prints the
# value of one variable.
cogito_conf_value() {
    (
        # shellcheck source=/dev/null
        . "${dracutsysrootdir-}$cogito_conf" >/dev/null 2>&1 || exit 1
        eval "printf '%s' \"\${$1:-}\""
    )
}

# called by dracut
check() {
    require_binaries cogito-guest cryptsetup systemd-escape || return 1
    [[ -r "${dracutsysrootdir-}$cogito_conf" ]] || {
        dwarn "cogito: $cogito_conf is missing (see contrib/guest.conf.example)"
        return 1
    }
    # Only when asked for: add_dracutmodules+=" cogito ".
    return 255
}

# called by dracut
depends() {
    echo systemd network crypt
    return 0
}

# called by dracut
installkernel() {
    # Whichever of these exist for this kernel, whatever the host runs on:
    # configfs; configfs-tsm (tsm, or tsm_report in newer kernels); the
    # SEV-SNP, TDX and CCA guest drivers; vsock for TDX quotes from the
    # host's quote generation service.
    hostonly='' instmods configfs tsm tsm_report sev-guest tdx-guest arm-cca-guest \
        vsock vmw_vsock_virtio_transport
    return 0
}

# called by dracut
install() {
    local unit helper guest server fingerprint ca secret volumes volume var device escaped

    unit=$(cogito_source cogito-unlock@.service "$systemdsystemunitdir/cogito-unlock@.service") || {
        derror "cogito: cogito-unlock@.service is neither in $moddir nor in $systemdsystemunitdir"
        return 1
    }
    helper=$(cogito_source cogito-unlock /usr/libexec/cogito/cogito-unlock) || {
        derror "cogito: cogito-unlock is neither in $moddir nor in /usr/libexec/cogito"
        return 1
    }
    guest=$(find_binary cogito-guest) || {
        derror "cogito: cogito-guest is not on PATH"
        return 1
    }

    # Refuse an initramfs that could not unlock anything: check guest.conf
    # now rather than at boot.
    server=$(cogito_conf_value COGITO_SERVER)
    fingerprint=$(cogito_conf_value COGITO_FINGERPRINT)
    ca=$(cogito_conf_value COGITO_CA)
    secret=$(cogito_conf_value COGITO_SECRET)
    volumes=$(cogito_conf_value COGITO_VOLUMES)
    if [[ -z $server ]]; then
        derror "cogito: COGITO_SERVER is not set in $cogito_conf"
        return 1
    fi
    if [[ -n $fingerprint && -n $ca ]] || [[ -z $fingerprint && -z $ca ]]; then
        derror "cogito: set exactly one of COGITO_FINGERPRINT and COGITO_CA in $cogito_conf"
        return 1
    fi
    if [[ -z $volumes ]]; then
        derror "cogito: COGITO_VOLUMES (the mapping names to unlock) is not set in $cogito_conf"
        return 1
    fi
    for volume in $volumes; do
        var=${volume//[!A-Za-z0-9_]/_}
        device=$(cogito_conf_value "COGITO_DEVICE_$var")
        [[ -n $device ]] || device=$(cogito_conf_value COGITO_DEVICE)
        if [[ -z $device ]]; then
            derror "cogito: $volume: neither COGITO_DEVICE_$var nor COGITO_DEVICE is set in $cogito_conf"
            return 1
        fi
        if [[ -z $secret && -z $(cogito_conf_value "COGITO_SECRET_$var") ]]; then
            derror "cogito: $volume: neither COGITO_SECRET_$var nor COGITO_SECRET is set in $cogito_conf"
            return 1
        fi
    done

    inst_binary "$guest" /usr/bin/cogito-guest
    inst_script "$helper" /usr/libexec/cogito/cogito-unlock
    inst_simple "$unit" "$systemdsystemunitdir/cogito-unlock@.service"
    inst_simple "$cogito_conf"
    if [[ -n $ca ]]; then
        inst_simple "$ca" || {
            derror "cogito: cannot install COGITO_CA=$ca"
            return 1
        }
    fi
    # What the helper runs besides cogito-guest and cryptsetup (the crypt
    # module installs cryptsetup).
    inst_multiple tr sleep
    inst_multiple -o modprobe

    # configfs-tsm lives in configfs, at /sys/kernel/config/tsm/report: the
    # unit wants sys-kernel-config.mount, which loads configfs first.
    inst_multiple -o \
        "$systemdsystemunitdir/sys-kernel-config.mount" \
        "$systemdsystemunitdir/modprobe@.service"

    # cogito-unlock@NAME.service, wanted by systemd-cryptsetup@NAME.service
    # (the unit's [Install] section).
    for volume in $volumes; do
        escaped=$(systemd-escape -- "$volume")
        $SYSTEMCTL -q --root "$initdir" enable "cogito-unlock@$escaped.service" || {
            derror "cogito: cannot enable cogito-unlock@$escaped.service"
            return 1
        }
    done
}
