#!/usr/bin/env bash
# load.sh — Shipshape under load, as several real replicas on one Postgres
# (issue #10, item 3). Prints Markdown.
#
#   bench/load.sh [options]
#
# 1. webhooks: two `serve --role web` replicas on a throwaway database with
#    --webhook-repos GitHub repositories configured; bench/load/deliver.py
#    sends --deliveries push deliveries to both at once (10 % bad
#    signatures, 20 % redeliveries of a valid delivery id), then checks from
#    the database that every distinct valid delivery was logged and queued
#    exactly once, no bad one left a trace, redeliveries changed nothing,
#    and no request got a 5xx. Latency p50/p95/p99 and throughput.
# 2. reads: --repos small local git repositories (copies of three templates,
#    one commit each of their own), a `web` replica and --workers `worker`
#    replicas. After the first full scan, wrk reads the overview and a
#    repository page while idle, then again while every repository is
#    being rescanned (one API rescan request per repository).
#
# Options
#   --bin PATH         the shipshape binary (default: release build in
#                      $CARGO_TARGET_DIR if present, else the debug one)
#   --part LIST        comma list of webhooks,reads (default: both)
#   --deliveries N     webhook requests (default 10000)
#   --webhook-repos N  repositories the pushes go to (default 1000)
#   -c N               concurrent webhook senders (default 32)
#   --repos N          repositories for the reads part (default 1000)
#   --workers N        worker replicas for the reads part (default 2)
#   -d SECS            wrk duration per page and phase (default 10)
#   --read-conns N     wrk connections (default 8)
#   --out FILE         also write the Markdown to FILE
#   -h, --help
#
# Environment: PG_ADMIN (default postgres://postgres@127.0.0.1:5432/test),
# the Postgres the throwaway databases are created in and dropped from.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/shipshape-target}
BIN=""; PARTS=webhooks,reads; DELIVERIES=10000; HOOK_REPOS=1000; CONC=32; REPOS=1000; WORKERS=2
DURATION=10; READ_CONNS=8; OUT=""
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --part) PARTS=$2; shift 2 ;;
    --deliveries) DELIVERIES=$2; shift 2 ;;
    --webhook-repos) HOOK_REPOS=$2; shift 2 ;;
    -c) CONC=$2; shift 2 ;;
    --repos) REPOS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    -d) DURATION=$2; shift 2 ;;
    --read-conns) READ_CONNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for tool in wrk curl git psql python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk curl git postgresql-client python3" >&2; exit 1; }
done
if [ -z "$BIN" ]; then
  BIN=$TARGET/release/shipshape
  [ -x "$BIN" ] || BIN=$TARGET/debug/shipshape
fi
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --bin shipshape, or --bin PATH" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shipshape-load.XXXXXX)
PIDS=(); DBS=()
stop_replicas() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_replicas
  local db
  for db in "${DBS[@]}"; do psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "$(date +%T) $*" >&2; }

new_database() { # name -> prints its URL
  local db="shipshape_load_$1_$$"
  psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$db\"" >/dev/null
  DBS+=("$db")
  echo "${PG_ADMIN%/*}/$db"
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
# start_replica NAME ROLE DATABASE_URL CONFIG: starts `shipshape serve` on a
# free port, waits for /readyz, sets PORT.
start_replica() {
  local name=$1 role=$2 url=$3 config=$4
  PORT=$(free_port)
  mkdir -p "$WORK/$name"
  HOSTNAME=$name DATABASE_URL=$url SHIPSHAPE__SERVER__BIND=127.0.0.1:$PORT \
    SHIPSHAPE__DATA_DIR="$WORK/$name" SHIPSHAPE__GITHUB__WEBHOOK_SECRET="$SECRET" \
    SHIPSHAPE__SCHEDULER__ENABLED=false SHIPSHAPE__WORKER__IDLE_SECS=1 SHIPSHAPE__CHECKOUT__ALLOW_LOCAL=true \
    SHIPSHAPE__LOG__LEVEL=warn \
    "$BIN" --config "$config" serve --role "$role" >>"$WORK/$name/log" 2>&1 &
  PIDS+=($!)
  local _
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "replica $name did not become ready; its log:" >&2; tail -20 "$WORK/$name/log" >&2; exit 1
}
sql() { psql -At "$DB_URL" -c "$1"; }
machine() { echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

REPORT=("# Load: replicas on one Postgres ($(date -u +%FT%TZ))" ""
  "binary: \`$BIN\` ($(case "$BIN" in */debug/*) echo "debug build" ;; *) echo "release build" ;; esac)); Postgres: \`${PG_ADMIN%/*}\`" "")
FAILED=0

webhooks() {
  log "webhooks: $HOOK_REPOS repositories, $DELIVERIES deliveries to two web replicas"
  DB_URL=$(new_database hooks)
  local config=$WORK/hooks.toml i
  for ((i = 0; i < HOOK_REPOS; i++)); do
    printf '[[repositories]]\nurl = "https://github.com/acme/svc-%d.git"\nname = "acme/svc-%d"\nbranch = "main"\n' "$i" "$i"
  done >"$config"
  start_replica web-a web "$DB_URL" "$config"; local a=$PORT
  start_replica web-b web "$DB_URL" "$config"; local b=$PORT
  # The first scans the configuration queued: not this test's business.
  sql "DELETE FROM jobs" >/dev/null
  local before; before=$(machine)
  local table status=0
  table=$(python3 "$HERE/load/deliver.py" --ports "$a,$b" --secret "$SECRET" --dsn "$DB_URL" \
    --count "$DELIVERIES" --repos "$HOOK_REPOS" --concurrency "$CONC") || status=$?
  [ "$status" = 0 ] || FAILED=1
  stop_replicas
  REPORT+=("## Webhook deliveries against two replicas" ""
    "Two \`serve --role web\` replicas (no worker, scheduler off) on one Postgres; $before at the start." ""
    "$table" "")
}

# Three small templates; each repository is a copy with one commit of its own.
make_repos() {
  local root=$1 t i dir
  for t in 0 1 2; do
    dir=$root/template-$t
    mkdir -p "$dir/.github/workflows"
    git init -q -b main "$dir"
    case $t in
      0) mkdir -p "$dir/app" "$dir/tests"
         printf 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/healthz")\ndef healthz():\n    return {"status": "ok"}\n' >"$dir/app/main.py"
         printf 'flask==3.0.0\ngunicorn==22.0.0\n' >"$dir/requirements.txt"
         printf 'from app.main import app\n\n\ndef test_health():\n    assert app.test_client().get("/healthz").status_code == 200\n' >"$dir/tests/test_main.py" ;;
      1) mkdir -p "$dir/src"
         printf '{"name": "svc", "version": "1.0.0", "dependencies": {"express": "4.19.2"}, "scripts": {"test": "node --test"}}\n' >"$dir/package.json"
         printf 'const express = require("express");\nconst app = express();\napp.get("/healthz", (req, res) => res.json({ ok: true }));\napp.listen(process.env.PORT || 3000);\n' >"$dir/src/index.js" ;;
      2) mkdir -p "$dir/docs"
         printf '# Runbook\n\nHow to operate the service.\n' >"$dir/docs/runbook.md"
         printf 'FROM python:3.12-slim\nCOPY . /app\nUSER 1000\nCMD ["python", "-m", "http.server"]\n' >"$dir/Dockerfile" ;;
    esac
    printf 'name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n' >"$dir/.github/workflows/ci.yml"
    printf '# template %d\n' "$t" >"$dir/README.md"
    git -C "$dir" add -A
    git -C "$dir" -c user.name=Load -c user.email=load@example.com commit -q -m "template $t"
  done
  for ((i = 0; i < REPOS; i++)); do
    dir=$root/repo-$i
    cp -a "$root/template-$((i % 3))" "$dir"
    printf 'Repository %d.\n' "$i" >>"$dir/README.md"
    git -C "$dir" -c user.name=Load -c user.email=load@example.com commit -q -am "repository $i"
  done
}

# Seconds since $1 (a date +%s.%N).
since() { awk -v now="$(date +%s.%N)" -v t="$1" 'BEGIN { printf "%.1f", now - t }'; }
active_scans() { sql "SELECT COUNT(*) FROM jobs WHERE kind = 'scan' AND status IN ('queued', 'running')"; }
finished_scans() { sql "SELECT COUNT(*) FROM scans"; }
wait_for_queue() { # timeout seconds
  local deadline=$((SECONDS + $1))
  while [ "$(active_scans)" != 0 ]; do
    [ $SECONDS -lt $deadline ] || { echo "the scans did not finish within $1 s" >&2; tail -5 "$WORK"/worker-*/log >&2; exit 1; }
    sleep 1
  done
}
READS=()
read_page() { # phase label path
  local before line requests non2xx errors rate p50 p95 p99 max
  before=$(finished_scans)
  line=$(wrk -t1 -c"$READ_CONNS" -d"${DURATION}s" -s "$HERE/load/read.lua" "http://127.0.0.1:$WEB" -- "$3" | grep '^RESULT')
  read -r _ requests non2xx errors rate p50 p95 p99 max <<<"$line"
  [ "$non2xx" = 0 ] && [ "$errors" = 0 ] || FAILED=1
  READS+=("| $1 | $2 | $requests | $((non2xx + errors)) | $rate | $p50 | $p95 | $p99 | $max | $(($(finished_scans) - before)) |")
}

reads() {
  log "reads: making $REPOS repositories"
  local t0; t0=$(date +%s.%N)
  make_repos "$WORK/repos"
  local made; made=$(since "$t0")
  local config=$WORK/repos.toml i
  for ((i = 0; i < REPOS; i++)); do
    printf '[[repositories]]\nurl = "file://%s/repos/repo-%d"\nname = "local/repo-%d"\nbranch = "main"\n' "$WORK" "$i" "$i"
  done >"$config"
  DB_URL=$(new_database reads)
  log "reads: first scan of $REPOS repositories by $WORKERS workers"
  t0=$(date +%s.%N)
  start_replica web web "$DB_URL" "$config"; WEB=$PORT
  for ((i = 1; i <= WORKERS; i++)); do start_replica "worker-$i" worker "$DB_URL" "$config"; done
  wait_for_queue 3600
  local first; first=$(since "$t0")
  local scanned; scanned=$(sql "SELECT COUNT(DISTINCT repository_id) FROM scans WHERE status = 'succeeded'")

  log "reads: idle"
  local page=/repos/local/repo-7
  read_page idle "overview \`/\`" /
  read_page idle "repository \`$page\`" "$page"

  log "reads: during a rescan of every repository"
  local before; before=$(finished_scans)
  t0=$(date +%s.%N)
  sql "SELECT id FROM repositories ORDER BY id" | python3 -c '
import http.client, re, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
# A session and its CSRF token, as the dashboard itself sends them (local mode: no sign-in).
conn.request("GET", "/checks")
res = conn.getresponse()
page = res.read().decode()
cookie = res.getheader("Set-Cookie").split(";")[0]
token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
headers = {"Content-Length": "0", "Cookie": cookie, "X-CSRF-Token": token}
for rid in sys.stdin.read().split():
    conn.request("POST", f"/api/v1/repositories/{rid}/scans", headers=headers)
    res = conn.getresponse()
    res.read()
    if res.status != 202:
        sys.exit(f"rescan of repository {rid}: HTTP {res.status}")
' "$WEB"
  local queued; queued=$(since "$t0")
  read_page "during rescan" "overview \`/\`" /
  read_page "during rescan" "repository \`$page\`" "$page"
  local left; left=$(active_scans)
  wait_for_queue 3600
  local rescan; rescan=$(since "$t0")
  local rescanned=$(($(finished_scans) - before))
  stop_replicas

  REPORT+=("## Page reads during a rescan of $REPOS repositories" ""
    "$REPOS repositories made in ${made} s (copies of three templates with a commit each); one \`web\` replica, $WORKERS \`worker\` replicas; $(machine) at the end." ""
    "- first full scan: $scanned repositories in ${first} s"
    "- rescan: $REPOS requests queued in ${queued} s through the API; $rescanned scans in ${rescan} s; $left scans still queued or running when the reads ended"
    "- wrk -t1 -c$READ_CONNS -d${DURATION}s per row" ""
    "| phase | page | requests | non-2xx | req/s | p50 ms | p95 ms | p99 ms | max ms | scans finished meanwhile |"
    "|---|---|---|---|---|---|---|---|---|---|"
    "${READS[@]}" "")
}

IFS=, read -ra PART_LIST <<<"$PARTS"
for part in "${PART_LIST[@]}"; do
  case "$part" in
    webhooks) webhooks ;;
    reads) reads ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done
[ "$FAILED" = 0 ] || REPORT+=("**Some checks FAILED** (see above).")
if [ -n "$OUT" ]; then printf '%s\n' "${REPORT[@]}" | tee "$OUT"; else printf '%s\n' "${REPORT[@]}"; fi
exit "$FAILED"
