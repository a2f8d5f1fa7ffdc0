#!/usr/bin/env bash
# A three-node cluster on this machine: one control plane and two workers, each on its own loopback address
# (127.0.0.11-13) with apid on :50000 and trustd on :50001. The workers join through trustd (token + CSR), then
# `get certificatestatus -n` shows every node's certificates through the control plane's apid.
# Usage: bash examples/cluster.sh [WORKDIR] [--keep]   (--keep leaves the nodes running; stop them with the printed kill)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$repo/demo-cluster"
source "$repo/examples/cluster-lib.sh" "$@"

CP=127.0.0.11
WORKERS=(127.0.0.12 127.0.0.13)
rm -rf "$work" && mkdir -p "$work" && chmod 700 "$work" && cd "$work"
export TALOSCONFIG="$work/talosconfig"

echo "> generating the cluster's secrets and machine configs"
trustctl gen secrets -o secrets.yaml
trustctl gen config demo "https://$CP:6443" --with-secrets secrets.yaml -o .

start cp-1 controlplane.yaml "$CP" "${WORKERS[@]/#/--member=}"   # apid forwards -n calls to these nodes only
for i in "${!WORKERS[@]}"; do
  start "worker-$((i + 1))" worker.yaml "${WORKERS[$i]}" --trustd-endpoint "$CP:50001"
done

echo "> waiting for the workers to join through trustd"
wait_valid "$CP" "$CP" "${WORKERS[@]}"

for node in "$CP" "${WORKERS[@]}"; do
  echo
  echo "> trustctl -e $CP -n $node get certificatestatus"
  trustctl -e "$CP" -n "$node" get certificatestatus
done
echo
trustctl -e "$CP" -n "$CP" get securitystatus || true
left_running
