#!/usr/bin/env bash
# Drives cogito serve with the upstream Confidential Containers client:
# guest-components' kbs_protocol (RCAR handshake + get_resource), its
# evidence made by cogito-testkit behind the EvidenceProvider trait.
# Needs a checkout of confidential-containers/guest-components at
# ../guest-components (beside the project) and a built cogito
# (cargo build --release -p cogito-cli). Not run by CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -d "$root/../guest-components/attestation-agent/kbs_protocol" ] || {
    echo "no ../guest-components checkout beside the project" >&2; exit 2; }
cogito=${COGITO:-$root/target/release/cogito}
[ -x "$cogito" ] || { echo "build cogito first: cargo build --release -p cogito-cli" >&2; exit 2; }

cargo build --release --manifest-path "$here/Cargo.toml" --target-dir "$here/target"
client=$here/target/release/kbs-protocol-client-interop

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$client" setup "$work"
port=${PORT:-18445}
"$cogito" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --offline --rate-limit 0 \
    --trust-anchors "$work/anchors" --cca-trust-anchors "$work/cpak.jwk" \
    --log-format json >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    [ -f "$work/data/tls/cert.pem" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
export COGITO_URL="https://127.0.0.1:$port" COGITO_DATA_DIR="$work/data"
"$cogito" collateral import "$work/tdx-bundle" >/dev/null
"$cogito" policy push "$work/fleet.toml" >/dev/null
printf 'upstream client got it' >"$work/secret"
"$cogito" secret put default/key/interop --policy fleet --value-file "$work/secret" >/dev/null

fail=0
for case in "snp ec" "snp rsa" "tdx ec" "tdx p521" "cca ec" "cca rsa"; do
    read -r tee alg <<<"$case"
    if out=$("$client" fetch "https://127.0.0.1:$port" "$work/data/tls/cert.pem" "$tee" default/key/interop "$alg" 2>&1) \
        && [ "$(tail -n1 <<<"$out")" = "upstream client got it" ]; then
        echo "ok    $tee with a $alg tee key"
    else
        echo "FAIL  $tee with a $alg tee key: $out"; fail=1
    fi
done
[ $fail = 0 ] || { echo "--- serve.log (last lines)"; tail -n 20 "$work/serve.log"; }
exit $fail
