#!/usr/bin/env bash
# Makes the certificates of a HerbTrace deployment's mutual TLS with the openssl CLI:
#
#   OUT_DIR/ca.pem, ca-key.pem              a local certificate authority (EC P-256, 10 years)
#   OUT_DIR/server.pem, server-key.pem      the server's certificate, SANs DNS:localhost,
#                                           IP:127.0.0.1, IP:::1 and every --server-name
#   OUT_DIR/party-<ID>.pem, party-<ID>-key.pem
#                                           one client certificate per --party: CN=<ID> and
#                                           SAN URI urn:herbtrace:party:<ID>, the party id the
#                                           server checks against the registry and the signer
#
# usage: deploy/make-certs.sh OUT_DIR [--server-name NAME ...] [--party PARTY_ID ...]
#   NAME is a DNS name or an IPv4/IPv6 address clients dial; PARTY_ID the 14-digit party id.
#
# Idempotent: what exists is kept (the CA above all: every certificate it signed stays valid),
# and only what is missing is made. A server certificate that lacks a name given now is made
# anew. Delete a file to have it made again. Keys are mode 0600.
#
#   herbtrace-server --tls_cert OUT/server.pem --tls_key OUT/server-key.pem --client_ca OUT/ca.pem
#   herbctl --tls_ca OUT/ca.pem --tls_cert OUT/party-ID.pem --tls_key OUT/party-ID-key.pem ...
#
# EC P-256 keys with ECDSA-SHA256 signatures: what gRPC's TLS stack over OpenSSL takes on every
# platform we deploy to. The CA's key is for this deployment alone; keep it off the servers.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
out=$1
shift
case "$out" in -*) usage ;; esac
server_names=()
parties=()
while [ $# -gt 0 ]; do
  case "$1" in
    --server-name) [ $# -ge 2 ] || usage; server_names+=("$2"); shift 2 ;;
    --server-name=*) server_names+=("${1#*=}"); shift ;;
    --party) [ $# -ge 2 ] || usage; parties+=("$2"); shift 2 ;;
    --party=*) parties+=("${1#*=}"); shift ;;
    -h|--help) usage ;;
    *) echo "make-certs.sh: unknown argument \"$1\"" >&2; usage ;;
  esac
done
for party in ${parties[@]+"${parties[@]}"}; do
  if ! [[ "$party" =~ ^[0-9]{14}$ ]]; then
    echo "make-certs.sh: --party \"$party\" is not a 14-digit party id" >&2
    exit 2
  fi
done
for name in ${server_names[@]+"${server_names[@]}"}; do
  if ! [[ "$name" =~ ^[A-Za-z0-9.:*-]+$ ]]; then
    echo "make-certs.sh: --server-name \"$name\" is not a DNS name or an IP address" >&2
    exit 2
  fi
done

command -v openssl >/dev/null || { echo "make-certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Signs a CSR for SUBJECT with the CA; EXTENSIONS is an openssl extension section.
issue() {
  local key=$1 cert=$2 subject=$3 extensions=$4
  printf '%s\n' "$extensions" >"$work/ext.cnf"
  openssl req -new -key "$key" -subj "$subject" -out "$work/req.csr"
  openssl x509 -req -in "$work/req.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" \
    -CAcreateserial -CAserial "$work/ca.srl" -days 825 -sha256 \
    -extfile "$work/ext.cnf" -extensions ext -out "$cert.tmp" 2>/dev/null
  chmod 0644 "$cert.tmp"
  mv "$cert.tmp" "$cert"
}

if [ ! -s "$out/ca.pem" ] || [ ! -s "$out/ca-key.pem" ]; then
  new_key "$out/ca-key.pem"
  openssl req -new -x509 -key "$out/ca-key.pem" -sha256 -days 3650 \
    -subj "/O=HerbTrace/CN=HerbTrace local CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$out/ca.pem.tmp"
  chmod 0644 "$out/ca.pem.tmp"
  mv "$out/ca.pem.tmp" "$out/ca.pem"
  rm -f "$out/server.pem" "$out"/party-*.pem
  echo "made $out/ca.pem"
fi

sans="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in ${server_names[@]+"${server_names[@]}"}; do
  if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then
    entry="IP:$name"
  else
    entry="DNS:$name"
  fi
  case ",$sans," in *",$entry,"*) ;; *) sans="$sans,$entry" ;; esac
done
server_current() {
  [ -s "$out/server.pem" ] && [ -s "$out/server-key.pem" ] || return 1
  local have
  have=$(openssl x509 -in "$out/server.pem" -noout -ext subjectAltName 2>/dev/null |
    tail -n +2 | tr -d ' ' | sed -e 's/IPAddress:/IP:/g' -e 's/0:0:0:0:0:0:0:1/::1/g')
  local entry
  IFS=, read -ra wanted <<<"$sans"
  for entry in "${wanted[@]}"; do
    case ",$have," in *",$entry,"*) ;; *) return 1 ;; esac
  done
}
if ! server_current; then
  [ -s "$out/server-key.pem" ] || new_key "$out/server-key.pem"
  issue "$out/server-key.pem" "$out/server.pem" "/O=HerbTrace/CN=herbtrace-server" "[ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$sans"
  echo "made $out/server.pem ($sans)"
fi

for party in ${parties[@]+"${parties[@]}"}; do
  cert="$out/party-$party.pem"
  key="$out/party-$party-key.pem"
  [ -s "$cert" ] && [ -s "$key" ] && continue
  [ -s "$key" ] || new_key "$key"
  issue "$key" "$cert" "/O=HerbTrace/CN=$party" "[ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=URI:urn:herbtrace:party:$party"
  echo "made $cert"
done
