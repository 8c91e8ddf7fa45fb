# Shared by the test scripts: start `kbgate demo` on a free port and read its tokens.
# Usage: . scripts/lib-demo.sh; start_demo; token_of ALICE; ...; stop_demo
start_demo() {
  demo_port=$((20000 + RANDOM % 20000))
  demo_admin_port=$((demo_port + 1))
  demo_log=$(mktemp)
  target/debug/kbgate demo --listen "127.0.0.1:$demo_port" --admin-listen "127.0.0.1:$demo_admin_port" >"$demo_log" 2>&1 &
  demo_pid=$!
  trap 'stop_demo' EXIT
  for _ in $(seq 1 150); do grep -q "Press Ctrl-C" "$demo_log" && return 0; sleep 0.2; done
  cat "$demo_log"; echo "the demo did not start"; return 1
}
token_of() { grep -o "export TOKEN_$1='[^']*'" "$demo_log" | sed "s/export TOKEN_$1='//; s/'\$//"; }
stop_demo() {
  if [ -n "${demo_pid:-}" ]; then
    kill -INT "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  demo_pid=
  rm -f "${demo_log:-}"
  return 0
}
