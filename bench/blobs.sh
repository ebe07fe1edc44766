#!/usr/bin/env bash
# blobs.sh — what binary blobs cost a scan: a small Flask service plus
# --count binary files of --mb MiB each (under the 8 MiB read limit; each
# starts with 64 KiB of random bytes, the rest is a hole) and one sparse
# 2 GiB file (over the limit). Each binary given is run with
# /usr/bin/time -v on `shipshape scan DIR --format json`; prints a Markdown
# row per binary: wall time, peak memory, files and bytes read.
#
#   bench/blobs.sh [--bin PATH]... [--count N] [--mb M] [--out FILE]
#
# Defaults: the debug build in $CARGO_TARGET_DIR, 300 blobs of 7 MiB.
# Give --bin twice to compare two builds (e.g. before and after a change).
set -euo pipefail
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/shipshape-target}
BINS=(); COUNT=300; MB=7; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BINS+=("$2"); shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --mb) MB=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#BINS[@]} -gt 0 ] || BINS=("$TARGET/debug/shipshape")
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install -y time" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shipshape-blobs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
REPO=$WORK/repo
mkdir -p "$REPO/app" "$REPO/assets"
printf 'from flask import Flask\n\napp = Flask(__name__)\n' >"$REPO/app/main.py"
printf 'flask==3.0.0\n' >"$REPO/requirements.txt"
for ((i = 0; i < COUNT; i++)); do
  f=$REPO/assets/blob-$i.bin
  { printf '\0BLOB'; head -c 65536 /dev/urandom; } >"$f"
  truncate -s "${MB}M" "$f"
done
truncate -s 2G "$REPO/assets/dump.sql"
logical=$(du -sh --apparent-size "$REPO" | cut -f1)
on_disk=$(du -sh "$REPO" | cut -f1)

rows=()
for bin in "${BINS[@]}"; do
  rm -f "$WORK/report.json"
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -v "$bin" scan "$REPO" --format json -o "$WORK/report.json" 2>"$WORK/time.txt" >/dev/null || true
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{printf "%.0f", $NF / 1024}')
  stats=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stats"]; print(s["files_seen"], s["files_read"], round(s["bytes_read"] / 1048576, 1))' "$WORK/report.json")
  read -r seen files mib <<<"$stats"
  rows+=("| \`$bin\` | $wall | $rss | $seen | $files | $mib |")
done

{
  echo "Blobs: $COUNT binary files of $MB MiB and one sparse 2 GiB file beside a small Flask app ($logical apparent, $on_disk on disk); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| binary | wall (m:ss) | peak RSS MiB | files seen | files read | MiB read |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | if [ -n "$OUT" ]; then tee "$OUT"; else cat; fi
