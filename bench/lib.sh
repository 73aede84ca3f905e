# Shared by the side-by-side bench scripts (sourced, not run): a scratch directory and the
# peers' PIDs cleaned up on exit, free ports, CPU time and memory of a process.
#   cpu_ns PID        nanoseconds on CPU, all threads (first field of task/*/schedstat)
#   status_kb PID KEY a /proc/PID/status value in kB (VmRSS, VmHWM)
#   wait_ready URL PID  poll URL until it answers, or fail when PID died (30 s at most)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# %.0f, not %d: mawk's %d saturates at 2^31 (about 2 s of CPU).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' /proc/"$1"/status; }
wait_ready() {  # url pid
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
