#!/usr/bin/env bash
# Scans each hostile repository (bench/hostile/make-repos.sh) through the
# worker's checkout code (`shipshape scan <file:// URL>`) and prints, per
# attack: exit code, wall time, peak memory, and what was reported. Then
# checks that nothing ran (no PWNED-* file) and nothing outside the
# checkout was read (no /etc/passwd line in any report).
#
# usage: bash bench/hostile.sh [--bin PATH] [--dir DIR]
#   env: HUGE_MB (default 200), FILES (default 1000000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/shipshape-target}/release/shipshape"
dir="${TMPDIR:-/tmp}/shipshape-hostile"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no shipshape binary at $bin (cargo build --release, or --bin)" >&2; exit 2; }

bash "$root/bench/hostile/make-repos.sh" "$dir" >/dev/null 2>&1
reports="$(mktemp -d)"
trap 'rm -rf "$reports"; [ -n "${stall_pid:-}" ] && kill "$stall_pid" 2>/dev/null || true' EXIT

printf '%-14s %4s %8s %9s  %s\n' attack exit seconds "peak MiB" outcome
scan() {
  local name="$1" url="$2"; shift 2
  local timing="$reports/$name.time" err="$reports/$name.err"
  set +e
  /usr/bin/time -f '%e %M' -o "$timing" "$bin" scan "$url" --format json -o "$reports/$name.json" "$@" 2>"$err"
  local code=$?
  set -e
  # time(1) prefixes "Command exited with non-zero status N" when it fails.
  read -r secs kb < <(tail -1 "$timing") || true
  local outcome
  if [ "$code" -le 1 ] && [ -s "$reports/$name.json" ]; then
    outcome="$(python3 - "$reports/$name.json" <<'PY' 2>/dev/null || echo scanned
import json, sys
r = json.load(open(sys.argv[1]))
s = r["stats"]
print("scanned: %d files seen, %d read, %d B; %s %.1f" % (s["files_seen"], s["files_read"], s["bytes_read"], r["level"], r["score"]))
PY
)"
  else
    outcome="$(grep -m1 '^error' "$err" || tail -1 "$err")"
  fi
  printf '%-14s %4s %8s %9s  %s\n' "$name" "$code" "$secs" "$((kb / 1024))" "${outcome:0:90}"
}

for name in symlinks huge-file many-files binary-blobs bad-names hooks submodule; do
  scan "$name" "file://$dir/$name"
done
stall_port_file="$reports/stall.port"
python3 "$root/bench/hostile/stall.py" > "$stall_port_file" &
stall_pid=$!
for _ in $(seq 1 50); do [ -s "$stall_port_file" ] && break; sleep 0.1; done
scan never-ends "http://127.0.0.1:$(cat "$stall_port_file")/repo.git" --git-timeout 5

pwned="$(ls "$dir"/PWNED-* 2>/dev/null || true)"
leaked="$(grep -l 'root:x:0:0' "$reports"/*.json 2>/dev/null || true)"
echo
echo "executed: ${pwned:-nothing}"
echo "read outside the checkout: ${leaked:-nothing}"
[ -z "$pwned" ] && [ -z "$leaked" ]
