#!/usr/bin/env bash
# The ledger on its own, without the services: with its data in ./var/ledger-demo.
#
# Creates a log (once), has a grower and a trader sign a
# huangqi (黄芪) chain, appends it with the signatures checked, prints the signed checkpoint,
# proves one entry's inclusion and checks the proof locally, and audits the whole ledger.
# Rerunning is safe: the same events are idempotent and come back with their first receipts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
tool=${HERBTRACE_BUILD_DIR:-build}/services/tools/herbtrace-ledger
var=${HERBTRACE_VAR:-var/ledger-demo}
mkdir -p "$var/keys"

if [ ! -f "$var/ledger/log-key.pem" ]; then
  "$tool" init --dir "$var/ledger" --origin anguo.herbtrace.example/log
fi
for party in grower trader; do
  [ -f "$var/keys/$party.pem" ] || "$tool" keygen --key "$var/keys/$party.pem"
  "$tool" sign --key "$var/keys/$party.pem" --in "deploy/samples/$party-huangqi.events.txtpb" \
    --out "$var/$party.events.bin"
done
echo
echo "== append (signatures checked against the grower's and the trader's public keys)"
for party in grower trader; do
  "$tool" append --dir "$var/ledger" --in "$var/$party.events.bin" \
    --trust "$var/keys/grower.pem.pub,$var/keys/trader.pem.pub"
done
echo
echo "== prove the split of the dried huangqi lot (entry 3) against the signed checkpoint"
"$tool" prove --dir "$var/ledger" --seq 3
echo
echo "== audit"
"$tool" audit --dir "$var/ledger"
echo
echo "Ledger in $var/ledger. Try: $tool entry --dir $var/ledger --seq 0"
