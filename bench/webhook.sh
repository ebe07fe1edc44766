#!/usr/bin/env bash
# webhook.sh — benchmark POST /webhooks/github: accepted deliveries per second
# and latency (p50/p99) for `ping` and `push` with wrk, on SQLite and on
# Postgres, then the time from a push to the updated score of a medium
# repository (the in-process worker checks it out, scans and records it).
#
#   bench/webhook.sh [options]
#
# Options
#   --bin PATH       the shipshape binary (default: the release build in
#                    $CARGO_TARGET_DIR, /root/.cache/shipshape-release)
#   --build          build it first: cargo build --release --bin shipshape
#   --db LIST        comma list of sqlite,postgres (default: both)
#   -d SECS          wrk duration per run (default 10)
#   -c N             wrk connections (default 32)
#   -t N             wrk threads (default 2)
#   --files N        files in the generated medium repository (default 1500)
#   --rounds N       push-to-score measurements per database (default 3)
#   --out FILE       also write the tables as Markdown to FILE
#   -h, --help
#
# Environment: PG_ADMIN (default postgres://postgres@127.0.0.1:5432/test),
# the Postgres a throwaway database is created in and dropped from.
#
# wrk cannot compute an HMAC per request cheaply, so each event's body is
# signed once here (openssl) and sent unchanged; the signature covers only
# the body, so a Lua-generated X-GitHub-Delivery per request keeps every
# delivery distinct (none is answered as a duplicate).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-/root/.cache/shipshape-release}
BIN=""; BUILD=0; DBS=sqlite,postgres; DURATION=10; CONNS=32; THREADS=2; FILES=1500; ROUNDS=3; OUT=""
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --build) BUILD=1; shift ;;
    --db) DBS=$2; shift 2 ;;
    -d) DURATION=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    -t) THREADS=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for tool in wrk openssl curl git sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk openssl curl git sqlite3 postgresql-client" >&2; exit 1; }
done
if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release --bin shipshape)
fi
BIN=${BIN:-$TARGET/release/shipshape}
[ -x "$BIN" ] || { echo "no binary at $BIN: pass --build or --bin PATH" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shipshape-webhook-bench.XXXXXX)
SERVER_PID=""; PG_DB=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$PG_DB" ] && psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

SECRET=$(openssl rand -hex 32)
REPO=$WORK/medium
git_() { git -C "$REPO" -c user.name=Bench -c user.email=bench@example.com -c commit.gpgsign=false "$@"; }

# A medium Python service: $FILES modules in packages, tests, CI, Dockerfile.
make_repo() {
  mkdir -p "$REPO/.github/workflows" "$REPO/tests"
  git init -q -b main "$REPO"
  printf 'fastapi==0.115.0\nuvicorn==0.30.0\nsqlalchemy==2.0.30\npytest==8.2.0\n' >"$REPO/requirements.txt"
  printf 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nUSER 1000\nHEALTHCHECK CMD curl -f http://localhost:8000/healthz\nCMD ["uvicorn", "app.main:app"]\n' >"$REPO/Dockerfile"
  printf 'name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -r requirements.txt && pytest\n' >"$REPO/.github/workflows/ci.yml"
  printf '# medium\n\nA generated service for the webhook benchmark.\n' >"$REPO/README.md"
  local i pkg
  for ((i = 0; i < FILES; i++)); do
    pkg=$REPO/app/pkg$((i % 25))
    [ -d "$pkg" ] || { mkdir -p "$pkg"; : >"$pkg/__init__.py"; }
    {
      printf 'import logging\nimport os\n\nlogger = logging.getLogger(__name__)\n\n'
      printf 'TIMEOUT = float(os.environ.get("TIMEOUT_%d", "5"))\n\n' "$i"
      for f in 1 2 3 4 5 6; do
        printf 'def handler_%d_%d(payload: dict) -> dict:\n    """Validates and normalises one request."""\n' "$i" "$f"
        printf '    if not isinstance(payload, dict):\n        raise ValueError("payload must be an object")\n'
        printf '    result = {k.lower(): v for k, v in payload.items() if v is not None}\n'
        printf '    logger.info("handled %%s keys", len(result))\n    return result\n\n\n'
      done
    } >"$pkg/module_$i.py"
    if ((i % 10 == 0)); then
      printf 'from app.pkg%d.module_%d import handler_%d_1\n\n\ndef test_handler():\n    assert handler_%d_1({"A": 1}) == {"a": 1}\n' \
        $((i % 25)) "$i" "$i" "$i" >"$REPO/tests/test_module_$i.py"
    fi
  done
  printf 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/healthz")\ndef healthz():\n    return {"status": "ok"}\n' >"$REPO/app/main.py"
  git_ add -A && git_ commit -q -m "initial"
}

# GitHub's payload shapes (trimmed to the fields a reader would check).
repository_json() {
  cat <<EOF
{"id":123456789,"node_id":"R_kgDOHk1x2Q","name":"medium","full_name":"acme/medium","private":false,
 "owner":{"name":"acme","login":"acme","id":98765,"type":"Organization","site_admin":false},
 "html_url":"https://github.com/acme/medium","description":"bench","fork":false,
 "url":"https://api.github.com/repos/acme/medium","git_url":"git://github.com/acme/medium.git",
 "ssh_url":"git@github.com:acme/medium.git","clone_url":"https://github.com/acme/medium.git",
 "size":4096,"language":"Python","archived":false,"disabled":false,"visibility":"public",
 "default_branch":"main","master_branch":"main","organization":"acme"}
EOF
}
ping_json() {
  printf '{"zen":"Keep it logically awesome.","hook_id":4242,"hook":{"type":"Repository","id":4242,"name":"web","active":true,"events":["push","repository"],"config":{"content_type":"json","insecure_ssl":"0","url":"http://127.0.0.1/webhooks/github"}},"repository":%s,"sender":{"login":"ada","id":1,"type":"User"}}' "$(repository_json)"
}
push_json() { # before after
  local commit
  commit=$(printf '{"id":"%s","tree_id":"5f2a1b4c3d6e7f8091a2b3c4d5e6f708192a3b4c","distinct":true,"message":"bench change","timestamp":"2026-11-22T04:00:00Z","url":"https://github.com/acme/medium/commit/%s","author":{"name":"Bench","email":"bench@example.com","username":"bench"},"committer":{"name":"Bench","email":"bench@example.com","username":"bench"},"added":[],"removed":[],"modified":["app/main.py"]}' "$2" "$2")
  printf '{"ref":"refs/heads/main","before":"%s","after":"%s","repository":%s,"pusher":{"name":"bench","email":"bench@example.com"},"sender":{"login":"bench","id":2,"type":"User"},"created":false,"deleted":false,"forced":false,"base_ref":null,"compare":"https://github.com/acme/medium/compare/%s...%s","commits":[%s],"head_commit":%s}' \
    "$1" "$2" "$(repository_json)" "${1:0:12}" "${2:0:12}" "$commit" "$commit"
}
sign() { echo "sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$1" | cut -d' ' -f1)"; }

cat >"$WORK/deliver.lua" <<'EOF'
-- args: body file, signature, event, delivery id prefix
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  local f = assert(io.open(args[1], "rb"))
  body = f:read("*a")
  f:close()
  sig, event, prefix, counter = args[2], args[3], args[4], 0
end
function request()
  counter = counter + 1
  return wrk.format("POST", "/webhooks/github", {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = event,
    ["X-GitHub-Delivery"] = string.format("%s-%d-%d", prefix, tid, counter),
    ["X-Hub-Signature-256"] = sig,
  }, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  local bad = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %d %d %.0f %.2f %.2f\n", summary.requests, bad,
    (summary.requests - bad) / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF

PORT=$((20000 + RANDOM % 20000))
start_server() { # database-url worker-enabled
  cat >"$WORK/bench.toml" <<EOF
[[repositories]]
url = "file://$REPO"
name = "acme/medium"
branch = "main"
EOF
  SHIPSHAPE__SERVER__BIND=127.0.0.1:$PORT SHIPSHAPE__SERVER__WORKERS=2 \
    SHIPSHAPE__DATABASE__URL="$1" SHIPSHAPE__DATA_DIR="$WORK/data" \
    SHIPSHAPE__GITHUB__WEBHOOK_SECRET="$SECRET" SHIPSHAPE__WORKER__ENABLED="$2" SHIPSHAPE__WORKER__IDLE_SECS=1 \
    SHIPSHAPE__SCHEDULER__ENABLED=false SHIPSHAPE__LOG__LEVEL=warn \
    "$BIN" --config "$WORK/bench.toml" serve >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start; its log:" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

SQL_DB=""
sql() {
  case "$SQL_DB" in
    sqlite://*) local f=${SQL_DB#sqlite://}; sqlite3 "${f%%\?*}" "$1" ;;
    *) psql -At "$SQL_DB" -c "$1" ;;
  esac
}
last_scanned_commit() {
  sql "SELECT s.commit_sha FROM repositories r JOIN scans s ON s.id = r.last_scan_id WHERE r.name = 'medium'"
}
wait_for_scan_of() { # commit; prints seconds waited
  local start=$1 commit=$2
  for _ in $(seq 1 6000); do
    if [ "$(last_scanned_commit)" = "$commit" ]; then
      awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { printf "%.3f\n", now - start }'
      return 0
    fi
    sleep 0.05
  done
  echo "no scan of $commit within 300 s; server log:" >&2; tail -20 "$WORK/server.log" >&2; exit 1
}

echo "generating the medium repository ($FILES modules)..." >&2
make_repo
HEAD=$(git_ rev-parse HEAD)
ping_json >"$WORK/ping.json"
push_json "$HEAD" "$HEAD" >"$WORK/push.json"
ping_sig=$(sign "$WORK/ping.json")
push_sig=$(sign "$WORK/push.json")
size_kb=$(du -sk --exclude=.git "$REPO" | cut -f1)

THROUGHPUT=(); SCORE=()
IFS=, read -ra DB_LIST <<<"$DBS"
for db in "${DB_LIST[@]}"; do
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  case "$db" in
    sqlite) SQL_DB="sqlite://$WORK/data/shipshape.db?mode=rwc" ;;
    postgres)
      PG_DB="shipshape_webhook_bench_$$"
      psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
      SQL_DB="${PG_ADMIN%/*}/$PG_DB" ;;
    *) echo "unknown database $db" >&2; exit 2 ;;
  esac

  # Deliveries per second: the worker is off, so only the request's own
  # work (signature, log row, enqueue) is measured.
  start_server "$SQL_DB" false
  for event in ping push; do
    echo "wrk: $event on $db (${DURATION}s, $CONNS connections)..." >&2
    sig_var=${event}_sig
    line=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/deliver.lua" "http://127.0.0.1:$PORT" \
      -- "$WORK/$event.json" "${!sig_var}" "$event" "$db-$event-$(date +%s)" | grep '^RESULT')
    read -r _ total bad rate p50 p99 <<<"$line"
    logged=$(sql "SELECT COUNT(*) FROM webhook_deliveries WHERE event = '$event'")
    THROUGHPUT+=("| $db | $event | $total | $bad | $logged | $rate | $p50 | $p99 |")
  done
  stop_server

  # Push to updated score: the worker on, a new commit, one signed push.
  start_server "$SQL_DB" true
  wait_for_scan_of "$(date +%s.%N)" "$HEAD" >/dev/null
  times=()
  for round in $(seq 1 "$ROUNDS"); do
    echo "# round $round" >>"$REPO/app/main.py"
    git_ commit -q -am "round $round"
    after=$(git_ rev-parse HEAD)
    push_json "$HEAD" "$after" >"$WORK/round.json"
    t0=$(date +%s.%N)
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:$PORT/webhooks/github" \
      -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
      -H "X-GitHub-Delivery: $db-round-$round-$$" -H "X-Hub-Signature-256: $(sign "$WORK/round.json")" \
      --data-binary "@$WORK/round.json"
    times+=("$(wait_for_scan_of "$t0" "$after")")
    HEAD=$after
  done
  scan_ms=$(sql "SELECT s.duration_ms FROM repositories r JOIN scans s ON s.id = r.last_scan_id WHERE r.name = 'medium'")
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(sed -n "$(((ROUNDS + 1) / 2))p" <<<"$sorted")
  SCORE+=("| $db | $ROUNDS | $(printf '%.2f' "$median") | $(printf '%.2f' "$(head -1 <<<"$sorted")") | $(printf '%.2f' "$(tail -1 <<<"$sorted")") | $scan_ms |")
  stop_server

  if [ "$db" = postgres ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null; PG_DB=""
  fi
done

report() {
  echo "## Webhook benchmark ($(date -u +%FT%TZ))"
  echo
  echo "binary: \`$BIN\`; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CONNS -d${DURATION}s"
  echo
  echo "| database | event | requests | errors | deliveries logged | accepted/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${THROUGHPUT[@]}"
  echo
  echo "Push to updated score, medium repository ($FILES modules, ${size_kb} KB), worker polling every 1 s:"
  echo
  echo "| database | pushes | median s | min s | max s | last scan itself (ms) |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${SCORE[@]}"
}
if [ -n "$OUT" ]; then report | tee "$OUT"; else report; fi
