#!/usr/bin/env bash
# Dashboard read latency on a year of history (issue #5's benchmark).
#
# Seeds a throwaway Postgres database with REPOS repositories x DAYS daily
# scans (scores drifting, levels following, category scores for every scan,
# check results for the latest 30 scans of each repository, ~15 findings per
# repository with their events), starts `shipshape serve` (release build by
# default) on it, and measures with wrk, in the same run: the overview, a
# repository page, a trend SVG, and a static asset served by the same server
# (the floor). Prints a Markdown table and writes bench/results/.
#
#   bench/dashboard.sh [--bin PATH] [--repos N] [--days N] [-c CONNECTIONS] [-d SECONDS] [--seed-only]
#
# --seed-only keeps the seeded database and prints its URL (for profiling).
#
# Needs: psql, wrk, python3, a Postgres at $PG_ADMIN (default the local one).
set -euo pipefail
cd "$(dirname "$0")/.."

REPOS=1000 DAYS=365 CONNS=50 SECS=15 BIN="" SEED_ONLY=""
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/shipshape-release}
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BIN=$2; shift 2 ;;
    --repos) REPOS=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    -d) SECS=$2; shift 2 ;;
    --seed-only) SEED_ONLY=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in wrk psql python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk postgresql-client python3 curl" >&2; exit 1; }
done
[ -n "$BIN" ] || BIN=$TARGET/release/shipshape
[ -x "$BIN" ] || { echo "no binary at $BIN: CARGO_TARGET_DIR=$TARGET cargo build --release --bin shipshape, or --bin PATH" >&2; exit 1; }

DB="shipshape_bench_dash_$$"
DB_URL="${PG_ADMIN%/*}/$DB"
WORK=$(mktemp -d /tmp/shipshape-dash.XXXXXX)
PID=""
cleanup() {
  [ -z "$PID" ] || { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "$(date +%T) $*" >&2; }
since() { python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$1"; }

psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$DB\"" >/dev/null
DATABASE_URL=$DB_URL SHIPSHAPE__DATA_DIR=$WORK "$BIN" migrate up >/dev/null

# The real catalogue, so pages resolve every check's title and docs.
"$BIN" scan . --format json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["checks"]:
    print("\t".join([c["check_id"], c["category"], c["severity"]]))' >"$WORK/checks.tsv"
log "seeding $REPOS repositories x $DAYS daily scans ($(wc -l <"$WORK/checks.tsv") checks in the catalogue)"
t0=$(date +%s.%N)
psql -q -v ON_ERROR_STOP=1 -v repos="$REPOS" -v days="$DAYS" "$DB_URL" <<SQL
CREATE TEMP TABLE catalogue (check_id text, category text, severity text);
\copy catalogue FROM '$WORK/checks.tsv'
INSERT INTO teams (slug, name, created_at)
  SELECT 'team-' || t, 'Team ' || t, now() FROM generate_series(1, 20) t;
INSERT INTO repositories (provider, owner, name, clone_url, default_branch, team_id, archived, enabled, created_at, updated_at)
  SELECT 'git', 'org', 'repo-' || lpad(i::text, 4, '0'), 'https://git.example.com/org/repo-' || i || '.git', 'main',
         (SELECT id FROM teams WHERE slug = 'team-' || (1 + i % 20)), false, true, now() - interval '400 days', now()
  FROM generate_series(1, :repos) i;
-- One scan a day per repository; each repository's score drifts around its own level.
INSERT INTO scans (repository_id, commit_sha, trigger, status, queued_at, started_at, finished_at, duration_ms,
                   analyzer_version, policy_version, overall_score, level, stack, files_scanned)
  SELECT r.id, md5(r.id || '-' || d), 'schedule', 'succeeded', x.at, x.at, x.at + interval '20 seconds', 20000,
         '0.1.0', 'bench0000000', x.score,
         CASE WHEN x.score >= 90 THEN 'gold' WHEN x.score >= 78 THEN 'silver' WHEN x.score >= 55 THEN 'bronze' ELSE 'not-ready' END,
         '{"languages": {"Python": 140, "YAML": 6}, "frameworks": ["fastapi"], "orms": ["sqlalchemy"], "deploy": ["docker"]}'::jsonb, 320
  FROM repositories r CROSS JOIN generate_series(0, :days - 1) d
  CROSS JOIN LATERAL (SELECT now() - make_interval(days => :days - d) AS at,
                             round(LEAST(99.5, 35 + (r.id % 50) + d * 0.04 + random() * 6)::numeric, 1)::float8 AS score) x;
INSERT INTO category_scores (scan_id, category, score)
  SELECT s.id, c.category, round(LEAST(100, s.overall_score + (random() * 20 - 10))::numeric, 1)::float8
  FROM scans s CROSS JOIN (SELECT DISTINCT category FROM catalogue) c;
-- Check results for each repository's latest 30 scans (what pages read).
INSERT INTO check_results (scan_id, check_id, category, severity, outcome, summary, findings_count)
  SELECT s.id, c.check_id, c.category, c.severity,
         CASE WHEN random() < 0.15 THEN 'fail' WHEN random() < 0.3 THEN 'not_applicable' ELSE 'pass' END,
         'bench', 0
  FROM (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY repository_id ORDER BY finished_at DESC) n FROM scans) t
        WHERE n <= 30) s
  CROSS JOIN catalogue c;
UPDATE repositories r SET last_scan_id = s.id, last_scanned_at = s.finished_at, score = s.overall_score, level = s.level
  FROM (SELECT DISTINCT ON (repository_id) * FROM scans ORDER BY repository_id, finished_at DESC) s
  WHERE s.repository_id = r.id;
-- About 15 findings per repository, opened at a random scan of the year, a third fixed since.
INSERT INTO findings (repository_id, fingerprint, content_hash, check_id, category, severity, state, message, path, line,
                      evidence, first_seen_scan_id, last_seen_scan_id, created_at, updated_at)
  SELECT r.id, md5(r.id || '-' || f), md5('c' || r.id || '-' || f), c.check_id, c.category, c.severity,
         CASE WHEN f % 3 = 0 THEN 'fixed' ELSE 'open' END, 'bench finding ' || f, 'app/module_' || f || '.py', 10 + f,
         'evidence', r.last_scan_id, r.last_scan_id, now() - make_interval(days => (f * 23) % :days), now()
  FROM repositories r CROSS JOIN generate_series(1, 15) f
  CROSS JOIN LATERAL (SELECT * FROM catalogue ORDER BY md5(check_id || f) LIMIT 1) c;
INSERT INTO finding_events (finding_id, scan_id, kind, path, line, commit_sha, created_at)
  SELECT id, last_seen_scan_id, 'opened', path, line, md5(id::text), created_at FROM findings;
INSERT INTO finding_events (finding_id, scan_id, kind, path, line, commit_sha, created_at)
  SELECT id, last_seen_scan_id, 'fixed', path, line, md5(id::text), created_at + interval '3 days' FROM findings WHERE state = 'fixed';
ANALYZE;
SQL
SEED_S=$(since "$t0")
counts=$(psql -At "$DB_URL" -c "SELECT (SELECT COUNT(*) FROM scans) || ' scans, ' || (SELECT COUNT(*) FROM category_scores) || ' category scores, ' || (SELECT COUNT(*) FROM check_results) || ' check results, ' || (SELECT COUNT(*) FROM findings) || ' findings'")
log "seeded in ${SEED_S} s: $counts"
if [ -n "$SEED_ONLY" ]; then
  trap - EXIT
  rm -rf "$WORK"
  echo "$DB_URL"
  exit 0
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL=$DB_URL SHIPSHAPE__SERVER__BIND=127.0.0.1:$PORT SHIPSHAPE__DATA_DIR=$WORK \
  SHIPSHAPE__WORKER__ENABLED=false SHIPSHAPE__SCHEDULER__ENABLED=false SHIPSHAPE__LOG__LEVEL=warn \
  SHIPSHAPE__DATABASE__MAX_CONNECTIONS=20 "$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { tail -20 "$WORK/server.log" >&2; exit 1; }

ROWS=()
measure() { # label path
  local out
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT$2" || { echo "$2 does not answer 200" >&2; tail -5 "$WORK/server.log" >&2; exit 1; }
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$PORT$2")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); errors=${errors:-0}
  ROWS+=("| $1 | \`$2\` | $rps | $p50 | $p99 | $errors |")
  log "$1: $rps req/s, p50 $p50, p99 $p99"
}
measure "static asset (floor)" /static/app.css
measure "overview" /
MID=$(printf 'repo-%04d' $(((REPOS + 1) / 2)))
measure "repository page" "/repos/org/$MID"
measure "trend SVG (90 days)" "/charts/repos/org/$MID/score.svg?days=90"
measure "org trend SVG (90 days)" "/charts/org.svg?days=90"

DATE=$(date -u +%F)
RESULT=bench/results/dashboard-$DATE.md
{
  echo "# Dashboard reads on a year of history ($(date -u +%FT%TZ))"
  echo
  echo "- data: $REPOS repositories x $DAYS daily scans on Postgres: $counts (seeded in ${SEED_S} s)"
  echo "- binary: \`$BIN\`; wrk -t2 -c$CONNS -d${SECS}s, one page at a time, same server and run"
  echo "- machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo
  echo "| page | path | req/s | p50 | p99 | non-2xx |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$RESULT"
log "written to $RESULT"
