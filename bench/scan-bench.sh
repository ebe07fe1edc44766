#!/usr/bin/env bash
# scan-bench.sh — benchmark `shipshape scan` against the floor (walk, rg) and
# other scanners (kingfisher, semgrep) on the pinned corpus tiers, and write
# the results to bench/results/<UTC date>.md. See bench/README.md.
#
#   bench/scan-bench.sh [options] [-- extra compare.sh options]
#
# Options
#   --install         install the reference tools first: ripgrep, hyperfine and
#                     GNU time (apt-get), semgrep and kingfisher-bin (pip, in a
#                     venv at $VENV), then continue
#   --tiers LIST      comma list of corpus tiers (default: small,medium,large)
#   --tools LIST      compare.sh tools, in run order
#                     (default: walk,rg-literal,rg,kingfisher,semgrep,ours)
#   --make-corpus     build missing tiers with make-corpus.sh (registry downloads,
#                     pinned by sha256) instead of stopping
#   --bin PATH        use this shipshape binary; do not build
#   --no-build        use the release binary already built; do not build
#   --no-ours         leave shipshape out (a baseline-only run, or to check the
#                     plumbing: --no-ours --tools walk,rg-literal --tiers small)
#   -n, --runs N      timed runs per fast tool (default 5)
#   --out FILE        results file (default bench/results/<UTC date>.md)
#   -h, --help
#
# Environment: CORPUS (default /tmp/readiness-corpus), VENV (default
# /root/.cache/bench-venv), COMPARE / MAKE_CORPUS (default: ../shared/bench
# beside the clone, the baseline's own scripts), plus everything compare.sh reads (RG, SEMGREP, KINGFISHER, ...).
#
# Ratios are only meaningful inside one compare.sh run (one tier): the
# machine is shared, so never divide figures from different runs or days.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CORPUS=${CORPUS:-/tmp/readiness-corpus}
VENV=${VENV:-/root/.cache/bench-venv}
SHARED_BENCH=${SHARED_BENCH:-$HERE/../../shared/bench}
COMPARE=${COMPARE:-$SHARED_BENCH/compare.sh}
MAKE_CORPUS=${MAKE_CORPUS:-$SHARED_BENCH/make-corpus.sh}

# Versions of the reference tools, as in bench/baseline.md section 5.
SEMGREP_VERSION=1.182.0
KINGFISHER_VERSION=2.14.0

INSTALL=0; MAKE=0; BUILD=1; OURS=1; BIN=""; RUNS=5; OUT=""
TIERS=small,medium,large
TOOLS=walk,rg-literal,rg,kingfisher,semgrep,ours
EXTRA=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "scan-bench: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case $1 in
    --install) INSTALL=1; shift ;;
    --tiers) TIERS=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --make-corpus) MAKE=1; shift ;;
    --bin) BIN=$2; BUILD=0; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-ours) OURS=0; BUILD=0; shift ;;
    -n|--runs) RUNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

install_tools() {
  echo "== installing reference tools"
  apt-get install -y ripgrep hyperfine time || { apt-get update && apt-get install -y ripgrep hyperfine time; }
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "semgrep==$SEMGREP_VERSION" "kingfisher-bin==$KINGFISHER_VERSION"
}
[ $INSTALL = 1 ] && install_tools
# The venv's tools are found without activating it.
[ -d "$VENV/bin" ] && export PATH="$PATH:$VENV/bin"

[ -x "$COMPARE" ] || [ -f "$COMPARE" ] || die "compare.sh not found at $COMPARE"
command -v python3 >/dev/null || die "python3 is needed for the tables"

# Our binary: build it in release unless told otherwise.
if [ $OURS = 1 ]; then
  if [ -z "$BIN" ]; then
    target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    BIN=$target/release/shipshape
    if [ $BUILD = 1 ]; then
      echo "== cargo build --release --bin shipshape"
      (cd "$ROOT" && cargo build --release --bin shipshape)
    fi
  fi
  [ -x "$BIN" ] || die "no shipshape binary at $BIN (build it, or pass --bin PATH)"
  BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
  OURS_CMD="$(printf '%q' "$BIN") scan {dir} --format json --output /dev/null"
else
  TOOLS=$(echo ",$TOOLS," | sed 's/,ours,/,/g; s/^,//; s/,$//')
fi

# Corpus tiers: present, or built on request.
IFS=, read -r -a TIER_LIST <<<"$TIERS"
for tier in "${TIER_LIST[@]}"; do
  [ -d "$CORPUS/$tier" ] && continue
  [ $MAKE = 1 ] || die "corpus tier '$tier' missing at $CORPUS/$tier (run $MAKE_CORPUS $tier, or pass --make-corpus)"
  CORPUS=$CORPUS bash "$MAKE_CORPUS" "$tier"
done

DATE=$(date -u +%F)
[ -n "$OUT" ] || OUT=$HERE/results/$DATE.md
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scan-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# One compare.sh run per tier: every ratio of a tier comes from that run.
for tier in "${TIER_LIST[@]}"; do
  echo
  echo "== tier $tier"
  args=(--tools "$TOOLS" -n "$RUNS" --json "$WORK/$tier.json" --md "$WORK/$tier.md")
  [ $OURS = 1 ] && args+=(--ours "$OURS_CMD" --ours-name shipshape)
  # semgrep takes minutes on the large tier: one timed run, a longer limit
  [ "$tier" = large ] && args+=(--runs-for semgrep=1 --timeout-for semgrep=900 --runs-for kingfisher=3)
  bash "$COMPARE" "${args[@]}" "${EXTRA[@]}" "$CORPUS/$tier"
done

# Versions and machine, for the record.
version() { command -v "$1" >/dev/null 2>&1 && { "$@" 2>/dev/null | head -1; } || echo "not installed"; }
{
  echo "commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) x $(nproc)"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "rg=$(version "${RG:-rg}" --version)"
  echo "kingfisher=$(version "${KINGFISHER:-kingfisher}" --version)"
  echo "semgrep=$(version "${SEMGREP:-semgrep}" --version)"
  if [ $OURS = 1 ]; then echo "shipshape=$("$BIN" --version 2>/dev/null | head -1 || echo unknown)"; fi
} > "$WORK/env.txt"

python3 - "$WORK" "$OUT" "$DATE" "$TIERS" <<'EOF'
import json, os, sys
work, out, date, tiers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(work, "env.txt")) if "=" in l)

def fmt(x, p=3):
    return "" if x is None else (f"{x:.{p}f}" if x < 100 else f"{x:.1f}")

hdr = ["tool", "runs", "median s", "files/s", "MB/s", "cpu s", "peak RSS MiB", "x rg-literal", "load"]
sections, verdicts, rss_by_tier = [], [], {}
for tier in tiers:
    path = os.path.join(work, f"{tier}.json")
    if not os.path.exists(path):
        continue
    d = json.load(open(path))
    files, mb = d["files"], d["bytes"] / 1e6
    rows = {r["tool"]: r for r in d["results"]}
    ok = lambda t: rows.get(t) if rows.get(t, {}).get("status") == "ok" else None
    floor = ok("rg-literal")
    lines = []
    for r in d["results"]:
        label = "shipshape" if r["tool"] == "ours" else r["tool"]
        if r["status"] != "ok":
            lines.append([label, "-", r["status"], "", "", "", fmt(r["rss_mib"], 1), "", r["load1"]]); continue
        md = max(r["median"], 1e-9)
        x = fmt(md / floor["median"], 2) if floor else ""
        lines.append([label, str(r["runs"]), fmt(md), f"{files/md:.0f}", f"{mb/md:.1f}",
                      fmt(r["cpu_s"], 2), fmt(r["rss_mib"], 1), x, r["load1"]])
    w = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(hdr)] if lines else [len(h) for h in hdr]
    term = [f"\n{tier}: {files} files, {mb:.1f} MB"]
    term.append("  ".join(h.ljust(w[i]) for i, h in enumerate(hdr)))
    term += ["  ".join(c.ljust(w[i]) for i, c in enumerate(l)) for l in lines]
    print("\n".join(term))
    md_table = [f"### {tier} ({files} files, {mb:.1f} MB)", "",
                "| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    md_table += ["| " + " | ".join(l) + " |" for l in lines]
    sections.append("\n".join(md_table))
    ours = ok("ours")
    if not ours:
        continue
    rss_by_tier[tier] = ours["rss_mib"]
    checks = []
    if floor:
        ratio = ours["median"] / max(floor["median"], 1e-9)
        checks.append((f"within 5x of rg-literal: {ratio:.2f}x", ratio <= 5))
    kf = ok("kingfisher")
    if kf:
        checks.append((f"faster than kingfisher: {ours['median']:.3f}s vs {kf['median']:.3f}s", ours["median"] < kf["median"]))
    sg = ok("semgrep")
    if sg:
        speedup = sg["median"] / max(ours["median"], 1e-9)
        checks.append((f">= 20x faster than semgrep: {speedup:.1f}x", speedup >= 20))
    verdicts.append((tier, checks))

mem = None
known = [(t, rss_by_tier[t]) for t in tiers if rss_by_tier.get(t)]
if len(known) >= 2:
    (t0, r0), (t1, r1) = known[0], known[-1]
    mem = (f"flat memory: peak RSS {r0:.1f} MiB on {t0}, {r1:.1f} MiB on {t1} ({r1 / r0:.2f}x; target <= 2x and <= 64 MiB)",
           r1 <= 2 * r0 and r1 <= 64)

print()
lines = []
for tier, checks in verdicts:
    for text, good in checks:
        lines.append(f"- {'PASS' if good else 'MISS'} [{tier}] {text}")
if mem:
    lines.append(f"- {'PASS' if mem[1] else 'MISS'} {mem[0]}")
print("\n".join(lines) if lines else "(shipshape not measured: no targets to check)")

with open(out, "w") as fh:
    fh.write(f"# Scan benchmark, {date}\n\n")
    fh.write("Produced by `bench/scan-bench.sh` (see bench/README.md). Each tier is one\n"
             "compare.sh run: ratios are within a tier, never across tiers or days.\n"
             "Warm page cache; `load` is the 1-minute load average when the row started\n"
             "(above 2 means a neighbour was busy on this 2-vCPU machine).\n\n")
    fh.write("| | |\n|---|---|\n")
    for k in ["commit", "cpu", "mem", "shipshape", "rg", "kingfisher", "semgrep"]:
        if k in env:
            fh.write(f"| {k} | {env[k]} |\n")
    fh.write("\n## Targets\n\n" + ("\n".join(lines) if lines else "shipshape was not measured in this run.") + "\n\n")
    fh.write("## Results\n\n" + "\n\n".join(sections) + "\n")
print(f"\nwrote {out}")
EOF
