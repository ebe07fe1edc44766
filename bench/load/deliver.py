#!/usr/bin/env python3
"""Sends GitHub push deliveries to several Shipshape replicas at once, then
checks from the database that each was handled exactly as GitHub would want.

The mix (of --count requests): 10 % carry a bad signature (wrong secret,
body changed after signing, or a malformed header; half of them reuse the id
of a valid delivery), 20 % are exact redeliveries of a valid delivery (same
id, same body), the rest are distinct valid pushes, spread over --repos
tracked repositories. All are shuffled and sent by --concurrency threads,
alternating between the replicas, over keep-alive connections.

Verified afterwards (exit status 1 if any fails):
  - no 5xx; every bad signature answered 401 and left no trace;
  - each distinct valid delivery answered "accepted" exactly once, its
    copies "duplicate";
  - webhook_deliveries holds exactly the distinct valid ids, each accepted,
    on the repository it pushed to;
  - the queue holds exactly one scan job per repository pushed to, and each
    accepted delivery's answer names that job (new or coalesced into it).

Prints Markdown: latency per kind, throughput, and the checks.
Standard library only; the database is read with psql.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import random
import subprocess
import sys
import threading
import time


def push_body(repo, before, after, n):
    full = f"acme/{repo}"
    repository = {
        "id": 500000 + n, "node_id": f"R_kgDO{n:08d}", "name": repo, "full_name": full, "private": False,
        "owner": {"name": "acme", "login": "acme", "id": 98765, "type": "Organization", "site_admin": False},
        "html_url": f"https://github.com/{full}", "description": "load test", "fork": False,
        "url": f"https://api.github.com/repos/{full}", "git_url": f"git://github.com/{full}.git",
        "ssh_url": f"git@github.com:{full}.git", "clone_url": f"https://github.com/{full}.git",
        "size": 4096, "language": "Python", "archived": False, "disabled": False, "visibility": "public",
        "default_branch": "main", "master_branch": "main", "organization": "acme",
    }
    commit = {
        "id": after, "tree_id": hashlib.sha1(after.encode()).hexdigest(), "distinct": True,
        "message": f"change {n}", "timestamp": "2026-11-22T04:00:00Z",
        "url": f"https://github.com/{full}/commit/{after}",
        "author": {"name": "Load", "email": "load@example.com", "username": "load"},
        "committer": {"name": "Load", "email": "load@example.com", "username": "load"},
        "added": [], "removed": [], "modified": ["app/main.py"],
    }
    return json.dumps({
        "ref": "refs/heads/main", "before": before, "after": after, "repository": repository,
        "pusher": {"name": "load", "email": "load@example.com"},
        "sender": {"login": "load", "id": 2, "type": "User"},
        "created": False, "deleted": False, "forced": False, "base_ref": None,
        "compare": f"https://github.com/{full}/compare/{before[:12]}...{after[:12]}",
        "commits": [commit], "head_commit": commit,
    }, separators=(",", ":")).encode()


def sign(secret, body):
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def guid(rng):
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def plan(count, repos, secret, rng):
    """The requests: dicts with kind (valid, duplicate, bad), id, repo, body, signature."""
    n_bad = count // 10
    n_dup = count // 5
    n_unique = count - n_bad - n_dup
    valid = []
    for i in range(n_unique):
        repo = f"svc-{i % repos}"
        before, after = hashlib.sha1(f"{i}-before".encode()).hexdigest(), hashlib.sha1(f"{i}".encode()).hexdigest()
        body = push_body(repo, before, after, i % repos)
        valid.append({"kind": "valid", "id": guid(rng), "repo": repo, "body": body, "sig": sign(secret, body)})
    dups = [dict(rng.choice(valid), kind="duplicate") for _ in range(n_dup)]
    bad = []
    for i in range(n_bad):
        base = rng.choice(valid)
        ident = base["id"] if i % 2 == 0 else guid(rng)
        how = i % 3
        if how == 0:  # signed with another secret
            body, sig = base["body"], sign(b"not-the-secret", base["body"])
        elif how == 1:  # body changed after signing
            body = base["body"].replace(b'"change', b'"CHANGE', 1)
            sig = base["sig"]
        else:  # not a sha256= signature at all
            body, sig = base["body"], "sha1=" + hashlib.sha1(base["body"]).hexdigest()
        bad.append({"kind": "bad", "id": ident, "repo": base["repo"], "body": body, "sig": sig})
    requests = valid + dups + bad
    rng.shuffle(requests)
    return requests


def send_all(requests, ports, concurrency):
    results = [None] * len(requests)
    next_index = [0]
    lock = threading.Lock()

    def worker():
        conns = {}
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(requests):
                break
            r = requests[i]
            port = ports[i % len(ports)]
            headers = {
                "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/load",
                "X-GitHub-Event": "push", "X-GitHub-Delivery": r["id"],
                "X-GitHub-Hook-ID": "4242", "X-Hub-Signature-256": r["sig"],
            }
            for attempt in range(2):
                conn = conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conns[port] = conn
                started = time.perf_counter()
                try:
                    conn.request("POST", "/webhooks/github", body=r["body"], headers=headers)
                    res = conn.getresponse()
                    text = res.read()
                    took = time.perf_counter() - started
                    results[i] = (res.status, took, text, port)
                    break
                except (http.client.HTTPException, OSError) as e:
                    conn.close()
                    conns.pop(port, None)
                    if attempt == 1:
                        results[i] = (0, time.perf_counter() - started, str(e).encode(), port)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def psql(dsn, sql):
    out = subprocess.run(["psql", "-At", "-F", "\t", dsn, "-c", sql], check=True, capture_output=True, text=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True, help="comma list of replica ports")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--repos", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seed", type=int, default=10)
    args = ap.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    rng = random.Random(args.seed)
    requests = plan(args.count, args.repos, args.secret.encode(), rng)
    results, wall = send_all(requests, ports, args.concurrency)

    kinds = ("valid", "duplicate", "bad")
    checks = []

    def check(what, expected, observed):
        checks.append((what, expected, observed, expected == observed))

    statuses = {}
    for r, (status, _, _, _) in zip(requests, results):
        statuses.setdefault(r["kind"], {}).setdefault(status, 0)
        statuses[r["kind"]][status] += 1
    fivexx = sum(n for k in statuses.values() for s, n in k.items() if s >= 500 or s == 0)
    check("5xx or failed requests", 0, fivexx)
    n_bad = sum(1 for r in requests if r["kind"] == "bad")
    check("bad signatures answered 401", n_bad, statuses.get("bad", {}).get(401, 0))

    answers = {}  # delivery id -> list of (result, job_id, coalesced)
    for r, (status, _, text, _) in zip(requests, results):
        if r["kind"] == "bad" or status not in (200, 202):
            continue
        body = json.loads(text)
        answers.setdefault(r["id"], []).append((body.get("result"), body.get("job_id"), body.get("coalesced")))
    unique = {r["id"]: r for r in requests if r["kind"] == "valid"}
    accepted_once = sum(1 for i in unique if [a[0] for a in answers.get(i, [])].count("accepted") == 1)
    check("distinct valid deliveries answered 'accepted' exactly once", len(unique), accepted_once)
    copies = sum(1 for r in requests if r["kind"] in ("valid", "duplicate"))
    dup_answers = sum(1 for a in answers.values() for x in a if x[0] == "duplicate")
    check("redeliveries answered 'duplicate'", copies - len(unique), dup_answers)

    repo_ids = {name: int(i) for i, name in psql(args.dsn, "SELECT id, name FROM repositories")}
    rows = psql(args.dsn, "SELECT delivery_id, result, COALESCE(repository_id, 0) FROM webhook_deliveries")
    logged = {d: (res, int(rid)) for d, res, rid in rows}
    check("webhook_deliveries rows", len(unique), len(rows))
    check("logged ids = the distinct valid ids", True, set(logged) == set(unique))
    right = sum(1 for i, r in unique.items() if logged.get(i) == ("accepted", repo_ids.get(r["repo"])))
    check("logged as accepted on the repository pushed to", len(unique), right)
    bad_only = {r["id"] for r in requests if r["kind"] == "bad"} - set(unique)
    check("bad-signature ids logged", 0, len(bad_only & set(logged)))

    jobs = psql(args.dsn, "SELECT id, COALESCE(repository_id, 0), status FROM jobs WHERE kind = 'scan'")
    job_of = {}
    for jid, rid, _ in jobs:
        job_of.setdefault(int(rid), []).append(int(jid))
    pushed = {repo_ids[r["repo"]] for r in unique.values()}
    check("scan jobs (one per repository pushed to)", len(pushed), len(jobs))
    check("repositories with exactly one job", len(pushed), sum(1 for r in pushed if len(job_of.get(r, [])) == 1))
    in_its_job = 0
    new_jobs = 0
    for i, r in unique.items():
        acc = [a for a in answers.get(i, []) if a[0] == "accepted"]
        if len(acc) == 1 and job_of.get(repo_ids[r["repo"]]) == [acc[0][1]]:
            in_its_job += 1
            new_jobs += acc[0][2] is False
    check("accepted deliveries queued in their repository's job", len(unique), in_its_job)
    check("deliveries that created a job (the rest coalesced)", len(pushed), new_jobs)

    print(f"{len(requests)} requests to {len(ports)} replicas, {args.concurrency} concurrent, "
          f"{args.repos} repositories, seed {args.seed}: {wall:.1f} s, **{len(requests) / wall:.0f} requests/s**")
    print()
    print("| requests | count | statuses | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for kind in kinds + ("all",):
        lat = [t * 1000 for r, (_, t, _, _) in zip(requests, results) if kind == "all" or r["kind"] == kind]
        st = statuses.get(kind) if kind != "all" else None
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(st.items())) if st else "—"
        label = {"valid": "distinct valid", "duplicate": "redelivered", "bad": "bad signature"}.get(kind, "all")
        print(f"| {label} | {len(lat)} | {shown} | {pct(lat, 50):.1f} | {pct(lat, 95):.1f} | "
              f"{pct(lat, 99):.1f} | {max(lat):.1f} |")
    per_port = {p: sum(1 for x in results if x[3] == p) for p in ports}
    print()
    print("Requests per replica: " + ", ".join(f"port {p}: {n}" for p, n in per_port.items()))
    print()
    print("| check | expected | observed | |")
    print("|---|---|---|---|")
    for what, expected, observed, ok in checks:
        print(f"| {what} | {expected} | {observed} | {'ok' if ok else '**FAILED**'} |")
    return 0 if all(c[3] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
