# Shared by cluster.sh and rotate.sh (sourced, not run): build if needed, a trustctl function, and starting, waiting
# for and stopping `trustctl serve` nodes on loopback addresses, each with its own state directory and log.
# Expects repo and work (the default WORKDIR) set by the caller, and its arguments: [WORKDIR] [--keep].
keep=false
for arg in "$@"; do
  case "$arg" in
    --keep) keep=true ;;
    *) work="$arg" ;;
  esac
done
cd "$repo"
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/bundle/trustctl.js ] || npm run build
trustctl() { node "$repo/dist/bundle/trustctl.js" "$@"; }

pids=()
cleanup() {
  if [ "$keep" = false ] && [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT

start() { # name config ip [extra flags]
  local name=$1 config=$2 ip=$3
  shift 3
  # node itself in the background (not the trustctl function), so $! is the process that SIGTERM must reach
  node "$repo/dist/bundle/trustctl.js" serve --config "$config" --state "$work/$name" --node-ip "$ip" --hostname "$name" --listen-address "$ip" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  echo "> started $name on $ip (log: $work/$name.log)"
}

wait_valid() { # endpoint node...: until each node's apid server certificate is Valid, asked through the endpoint
  local endpoint=$1
  shift
  for node in "$@"; do
    for _ in $(seq 1 100); do
      if trustctl -e "$endpoint" -n "$node" get certificatestatus api-server -o json 2>/dev/null | grep -q '"state": *"Valid"'; then break; fi
      sleep 0.2
    done
  done
}

left_running() {
  if [ "$keep" = true ]; then
    echo
    echo "> nodes left running: kill ${pids[*]}   (TALOSCONFIG=$TALOSCONFIG)"
  fi
}
