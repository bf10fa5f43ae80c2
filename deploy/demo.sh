#!/usr/bin/env bash
# Loads a realistic Anguo chain into a running herbtrace-server with herbctl, then prints the
# trace and the recall scope. Every event is signed by the party that makes it.
#
#   a grower cooperative harvests huangqi (黄芪, Huangqi, Astragali Radix) from its registered
#   base and dries it; a warehouse stores it; it is sold at the market to a trader, who splits it
#   into three lots sold to two decoction-piece makers; a lab finds one lot over the sulfur
#   dioxide limit; the regulator recalls the dried lot, and the holders acknowledge.
#
# usage: deploy/demo.sh SERVER KEYS_DIR LOG_KEY
#   KEYS_DIR must hold operator.pem, the key the server was started with as --bootstrap_key;
#   LOG_KEY is the log's verifier key, as herbtrace-server prints it at start ("log key").
# env:   HERBCTL (default build/services/cli/herbctl)
#        HERBTRACE_CERTS: a directory made by deploy/make-certs.sh with a certificate for every
#          demo party; then every party calls over mutual TLS with its own certificate (queries
#          as the regulator), and HERBTRACE_CONSOLE (the server's --admin_listen, default
#          127.0.0.1:50052) takes the one call no certificate can make yet: the operator's
#          genesis registration.
set -euo pipefail
server=${1:?server address}
keys=${2:?keys dir}
log_key=${3:?the log verifier key herbtrace-server printed}
herbctl=${HERBCTL:-build/services/cli/herbctl}
here=$(cd "$(dirname "$0")/.." && pwd)
certs=${HERBTRACE_CERTS:-}
console=${HERBTRACE_CONSOLE:-127.0.0.1:50052}

OP=13068300000001 REG=13068300000002 GROWER=13068300000003 WH=13068300000004
TRADER=13068300000005 MAKER_A=13068300000006 MAKER_B=13068300000007 LAB=13068300000008
# herbctl as PARTY: over mutual TLS with the party's certificate when there are certificates.
call() {
  local party=$1
  shift
  if [ -n "$certs" ]; then
    "$herbctl" --server="$server" --tls_ca "$certs/ca.pem" --tls_cert "$certs/party-$party.pem" \
      --tls_key "$certs/party-$party-key.pem" "$@"
  else
    "$herbctl" --server="$server" "$@"
  fi
}
# Queries as the regulator, who sees every lot and recall.
H() { call $REG "$@"; }
for who in regulator grower warehouse trader maker_a maker_b lab; do
  [ -f "$keys/$who.pem" ] || "$herbctl" keygen --key "$keys/$who.pem" >/dev/null
done
as() { local who=$1 party=$2; shift 2; call "$party" --key "$keys/$who.pem" --party "$party" "$@"; }
# The genesis: with certificates, from the host's console (no party is registered to present
# one yet).
genesis() {
  if [ -n "$certs" ]; then
    "$herbctl" --server="$console" --key "$keys/operator.pem" --party $OP "$@"
  else
    as operator $OP "$@"
  fi
}
# The codes herbctl printed as "new batch  CODE".
new_batches() { awk '$1 == "new" && $2 == "batch" {print $3}'; }
uuid() { cat /proc/sys/kernel/random/uuid; }
step() { printf '\n== %s\n' "$*"; }

step "registry: the market operator (genesis), the regulator, the parties, the catalog, the limits"
genesis register party --party_id $OP --name 安国数字中药都市场管理有限公司 \
  --roles market_operator --uscc 91130683MA00000026 --new_key "$keys/operator.pem"
as operator $OP register party --party_id $REG --name 安国市市场监督管理局 \
  --roles regulator --uscc 11130683MA0000003H --new_key "$keys/regulator.pem"
as regulator $REG register party --party_id $GROWER --name 安国市祁州黄芪种植专业合作社 \
  --roles grower,cooperative --uscc 91130683MA0000004C --new_key "$keys/grower.pem"
as operator $OP register party --party_id $WH --name 安国中药材仓储物流有限公司 \
  --roles warehouse --uscc 91130683MA0000005F --new_key "$keys/warehouse.pem"
as operator $OP register party --party_id $TRADER --name 东方药城祁州药材经营部 \
  --roles trader --uscc 91130683MA0000006J --new_key "$keys/trader.pem"
as operator $OP register party --party_id $MAKER_A --name 安国市甲中药饮片有限公司 \
  --roles processor --uscc 91130683MA0000007M --new_key "$keys/maker_a.pem"
as operator $OP register party --party_id $MAKER_B --name 安国市乙中药饮片有限公司 \
  --roles processor --uscc 91130683MA0000008Q --new_key "$keys/maker_b.pem"
as regulator $REG register party --party_id $LAB --name 河北安国中药材检测中心 \
  --roles lab --uscc 91130683MA0000009U --new_key "$keys/lab.pem"
as operator $OP catalog load "$here/catalog/herbs.csv"
as regulator $REG limits load "$here/catalog/quality-limits.csv" chp2020-anguo-1 \
  --catalog_file "$here/catalog/herbs.csv"
as grower $GROWER register base --base_id 0001 --name 祁州黄芪东区基地 \
  --latlon 38.418512,115.323450 --area_mu 120 --herbs HUANGQI

step "the grower harvests 800 kg of huangqi and dries it to 310 kg"
harvest=$(as grower $GROWER harvest --batch '#1' --base ${GROWER}0001 --herb HUANGQI \
  --grams 800kg --plot 东区-3号地 | tee /dev/stderr | new_batches)
dried=$(as grower $GROWER process --kind drying --input "$harvest:800kg" --output '#2' \
  --output_grams 310kg --loss_grams 490kg | tee /dev/stderr | new_batches)

step "warehouse storage, then the market trade (price committed, not logged)"
as grower $GROWER store --action in --batches "$dried" --warehouse $WH \
  --location A库-3区-12排 --storage_class cool
as grower $GROWER store --action out --batches "$dried" --warehouse $WH
trade=$(uuid)
as grower $GROWER trade --event_id "$trade" --buyer $TRADER --batch "$dried" --price_fen 2790000
as trader $TRADER receive --transfer "$trade" --received "$dried:310kg"

step "the trade's price: its buyer reads it; a maker that is not party to it cannot"
call $TRADER price "$trade"
if [ -n "$certs" ]; then
  if refused=$(call $MAKER_B price "$trade" 2>&1); then
    echo "maker B read the price of a trade it is not party to" >&2
    exit 1
  fi
  echo "maker B: $refused"
fi

step "the trader splits the lot into three and sells them to two decoction-piece makers"
lots=$(as trader $TRADER split --input "$dried" --outputs '#1:100kg,#2:100kg,#3:110kg' |
  tee /dev/stderr | new_batches)
read -r lot1 lot2 lot3 <<<"$(echo $lots)"
for sale in "$lot1 $MAKER_A maker_a 100kg 900000" "$lot2 $MAKER_A maker_a 100kg 900000" \
            "$lot3 $MAKER_B maker_b 110kg 990000"; do
  read -r lot buyer who grams fen <<<"$sale"
  id=$(uuid)
  as trader $TRADER trade --event_id "$id" --buyer "$buyer" --batch "$lot" --price_fen "$fen"
  as "$who" "$buyer" receive --transfer "$id" --received "$lot:$grams"
done

step "the lab tests maker B's lot: sulfur dioxide 212 mg/kg against the 150 mg/kg limit"
as lab $LAB test --batch "$lot3" --limits_version chp2020-anguo-1 \
  --results pb=0.8mg/kg,cd=0.12mg/kg,as=0.3mg/kg,hg=0.02mg/kg,cu=6mg/kg,so2=212mg/kg
H batch "$lot3"
recall=$(uuid)
step "the regulator recalls the dried lot and everything made from it"
as regulator $REG recall --event_id "$recall" --batch "$dried" --severity 2 \
  --reason "SO2 212 mg/kg over the 150 mg/kg limit in a lot split from it" --ack_by 7d
as maker_a $MAKER_A ack --recall_id "$recall" --batch "$lot1" --action quarantined
as maker_a $MAKER_A ack --recall_id "$recall" --batch "$lot2" --action quarantined
as maker_b $MAKER_B ack --recall_id "$recall" --batch "$lot3" --action destroyed

step "trace down from the harvest"
H trace down "$harvest" --include_empty
step "trace up from maker A's lot"
H trace up "$lot1"
step "recall scope"
H recall show "$recall"
step "verify maker A's lot against the log's key, locally"
H checkpoint --log_key "$log_key"
H verify "$lot1" --log_key "$log_key"
echo
echo "demo loaded: harvest $harvest, dried $dried, lots $lot1 $lot2 $lot3, recall $recall"
