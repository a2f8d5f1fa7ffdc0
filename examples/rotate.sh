#!/usr/bin/env bash
# Every CA rotated with no downtime on a cluster on this machine: two control planes (127.0.0.11-12) and a worker
# (127.0.0.13), apid on :50000 and trustd on :50001 of each address. Shows the dry-run plan, rotates the Talos API,
# Kubernetes, etcd and aggregator CAs (one `> ` line per stage), then shows that the new talosconfig works and the old
# one is refused. A supervisor restart with the same --config keeps the rotated CAs (the script restarts cp-2 to show it).
# Usage: bash examples/rotate.sh [WORKDIR] [--keep]   (--keep leaves the nodes running; stop them with the printed kill)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$repo/demo-rotate"
source "$repo/examples/cluster-lib.sh" "$@"

CPS=(127.0.0.11 127.0.0.12)
WORKER=127.0.0.13
rm -rf "$work" && mkdir -p "$work" && chmod 700 "$work" && cd "$work"
export TALOSCONFIG="$work/talosconfig"

echo "> generating the cluster's secrets and machine configs"
trustctl gen secrets -o secrets.yaml
trustctl gen config demo "https://${CPS[0]}:6443" --with-secrets secrets.yaml -o .
members=("${CPS[@]/#/--member=}" "--member=$WORKER")   # the nodes apid forwards -n calls to (itself is known anyway)
for i in "${!CPS[@]}"; do start "cp-$((i + 1))" controlplane.yaml "${CPS[$i]}" "${members[@]}"; done
start worker-1 worker.yaml "$WORKER" --trustd-endpoint "${CPS[0]}:50001"
echo "> waiting for every node's apid certificate"
wait_valid "${CPS[0]}" "${CPS[@]}" "$WORKER"

nodes=(-e "${CPS[0]}" rotate-ca --control-plane-nodes "$(IFS=,; echo "${CPS[*]}")" --worker-nodes "$WORKER")
echo
echo "> trustctl ${nodes[*]} --talos --kubernetes --etcd --aggregator   (dry-run: the default)"
trustctl "${nodes[@]}" --talos --kubernetes --etcd --aggregator
echo
echo "> trustctl ${nodes[*]} --talos --kubernetes --etcd --aggregator --dry-run=false -o talosconfig.new"
trustctl "${nodes[@]}" --talos --kubernetes --etcd --aggregator --dry-run=false -o talosconfig.new

echo
echo "> trustctl --talosconfig talosconfig.new -e ${CPS[0]} get carotation"
trustctl --talosconfig talosconfig.new -e "${CPS[0]}" get carotation
echo
echo "> the old talosconfig is refused now:"
trustctl -e "${CPS[0]}" version || true

echo
echo "> restarting cp-2 with the same command line (its --config file still holds the old CAs)"
kill -TERM "${pids[1]}" && wait "${pids[1]}" || true
start cp-2 controlplane.yaml "${CPS[1]}" "${members[@]}"
export TALOSCONFIG="$work/talosconfig.new"
wait_valid "${CPS[0]}" "${CPS[1]}"
grep -o 'msg="machine config[^"]*"' "$work/cp-2.log" | tail -1
for node in "${CPS[@]}"; do
  echo
  echo "> trustctl -e ${CPS[0]} -n $node get certificatestatus   (every CA new, every certificate Valid)"
  trustctl -e "${CPS[0]}" -n "$node" get certificatestatus
done
left_running
