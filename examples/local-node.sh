#!/usr/bin/env bash
# One command, fresh machine to a running local node: installs and builds if needed, makes a cluster's secrets and a
# control-plane config, runs the node until every certificate is issued, then shows them and the security status.
# Usage: bash examples/local-node.sh [WORKDIR]   (default: ./demo-node; re-running reuses it)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$repo/demo-node}"
cd "$repo"
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/bundle/trustctl.js ] || npm run build
trustctl() { node "$repo/dist/bundle/trustctl.js" "$@"; }

mkdir -p "$work" && chmod 700 "$work"
cd "$work"
[ -f secrets.yaml ] || trustctl gen secrets -o secrets.yaml
[ -f controlplane.yaml ] || trustctl gen config demo https://127.0.0.1:6443 --with-secrets secrets.yaml --output-types controlplane,talosconfig -o .
trustctl serve --config controlplane.yaml --state ./state --node-ip 127.0.0.1 --hostname demo-cp --once
echo
trustctl get certificatestatus --state ./state
echo
trustctl get securitystatus --state ./state
