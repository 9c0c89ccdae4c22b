#!/usr/bin/env python3
"""Steady mixed load for the soak: a fixed request rate, whatever the answers take (an open
model: requests are scheduled by the clock, so a slow server cannot slow the load down), and a
sample of the server every minute.

  soak_load.py PORT PID MINUTES RATE CSV [--store-size N] [--size-cmd CMD]
               [--token T --admin-token A]

Mix per second of RATE: 40 % reads, 20 % creates, 25 % patches (merge patches of recent
contexts), 10 % selections, 5 % history reads. Eight keep-alive workers. With --store-size N the
store stops growing at N contexts: from then on a create falls due as a purge of the oldest
context (`DELETE ?purge=true`, as the admin) whenever the store holds N, so it holds N contexts
(10 % creates, 10 % purges) while the load goes on.

Every 60 s one CSV row: minute, rss_kib, rss_anon_kib, open_fds, threads, requests, errors,
p50_ms, p90_ms, p99_ms, max_ms, contexts (live, as this load counts them), db_bytes (CMD's
output, 0 without it), then the p99 of each kind of request: p99_read_ms, p99_create_ms,
p99_patch_ms, p99_select_ms, p99_history_ms, p99_purge_ms. (RSS counts the mapped database pages
too; RssAnon is the heap: where a leak would show.)
"""
import argparse
import http.client
import json
import os
import queue
import random
import subprocess
import threading
import time

cli = argparse.ArgumentParser()
cli.add_argument("port", type=int)
cli.add_argument("pid", type=int)
cli.add_argument("minutes", type=float)
cli.add_argument("rate", type=float)
cli.add_argument("csv")
cli.add_argument("--store-size", type=int, default=0, help="live contexts to hold (0: grow)")
cli.add_argument("--size-cmd", help="a shell command that prints the database's size in bytes")
cli.add_argument("--token", help="the agent soak's token (token mode); else X-Agent-Id (trust)")
cli.add_argument("--admin-token", help="an admin's token for the purges (token mode)")
args = cli.parse_args()
if 0 < args.store_size < 1000:
    cli.error("--store-size must be 0 or at least 1000 (reads and patches take the newest 500)")
port, pid, minutes, rate, csv_path = args.port, args.pid, args.minutes, args.rate, args.csv
words = ["factura", "cliente", "despliegue", "migración", "deploy", "invoice", "database",
         "prioridad", "agente", "contexto", "reunión", "informe", "pago", "servidor", "usuario"]
KINDS = ["read", "create", "patch", "select", "history", "purge"]
lock = threading.Lock()
latencies, errors, done = [], 0, 0
by_kind = {k: [] for k in KINDS}  # this minute's latencies of each kind
caller = {"Authorization": "Bearer " + args.token} if args.token else {"X-Agent-Id": "soak"}
# Only an admin may purge: in trust mode a request without X-Agent-Id is the admin.
admin = {"Authorization": "Bearer " + args.admin_token} if args.admin_token else {}
ids = []       # every context created, oldest first
purged = 0     # ids[:purged] are purged (the oldest go first)
jobs = queue.Queue(maxsize=10000)


def proc_value(name, field):
    with open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def db_bytes():
    if not args.size_cmd:
        return 0
    out = subprocess.run(args.size_cmd, shell=True, capture_output=True, text=True).stdout
    return int(out.strip() or 0)


def one(conn, rnd):
    global purged
    kind = rnd.random()
    headers = {"Content-Type": "application/json", **caller}
    victim = None
    with lock:
        # Reads and patches take the newest 500, purges the oldest: never the same context.
        known = ids[-500:] if ids else []
        full = args.store_size and len(ids) - purged >= args.store_size
        if kind < 0.20 and full:
            victim = ids[purged]
            purged += 1
    text = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 30)))
    if victim:
        name = "purge"
        conn.request("DELETE", "/api/context/" + victim + "?purge=true", headers=admin)
    elif kind < 0.20 or not known:
        name = "create"
        body = {"agent_id": "soak", "context_data": {"text": text, "n": rnd.randint(0, 10**6)},
                "metadata": {"tags": [rnd.choice(words)], "priority": rnd.choice(["high", "low"])}}
        conn.request("POST", "/api/context", json.dumps(body), headers)
    elif kind < 0.45:
        name = "patch"
        conn.request("PATCH", "/api/context/" + rnd.choice(known),
                     json.dumps({"context_data": {"text": text}}), headers)
    elif kind < 0.55:
        name = "select"
        conn.request("POST", "/api/agent/soak/select",
                     json.dumps({"query": " ".join(rnd.sample(words, 2)), "limit": 5}), headers)
    elif kind < 0.60:
        name = "history"
        conn.request("GET", "/api/context/" + rnd.choice(known) + "/history?limit=5",
                     headers=headers)
    else:
        name = "read"
        conn.request("GET", "/api/context/" + rnd.choice(known), headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status == 201:
        with lock:
            ids.append(json.loads(data)["id"])
    return r.status, name


def worker(seed):
    global errors, done
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        due = jobs.get()
        if due is None:
            return
        start = time.monotonic()
        name = None
        try:
            status, name = one(conn, rnd)
            ok = 200 <= status < 300
        except Exception:
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # Latency from when the request was due: queueing behind a slow server counts.
        ms = (time.monotonic() - min(due, start)) * 1000
        with lock:
            latencies.append(ms)
            if name:
                by_kind[name].append(ms)
            done += 1
            if not ok:
                errors += 1


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
for t in threads:
    t.start()
out = open(csv_path, "w")
out.write("minute,rss_kib,rss_anon_kib,open_fds,threads,requests,errors,p50_ms,p90_ms,p99_ms,max_ms,"
          "contexts,db_bytes," + ",".join("p99_" + k + "_ms" for k in KINDS) + "\n")
start = time.monotonic()
interval = 1.0 / rate
next_due = start
minute = 0
while True:
    now = time.monotonic()
    if now - start >= (minute + 1) * 60:
        minute += 1
        with lock:
            lat, n, e, live = sorted(latencies), done, errors, len(ids) - purged
            kinds = {k: sorted(v) for k, v in by_kind.items()}
            for v in by_kind.values():
                v.clear()
            latencies.clear()
            done = errors = 0
        row = [minute, proc_value("status", "VmRSS:"), proc_value("status", "RssAnon:"),
               len(os.listdir(f"/proc/{pid}/fd")),
               proc_value("status", "Threads:"), n, e, round(pct(lat, 50), 2),
               round(pct(lat, 90), 2), round(pct(lat, 99), 2), round(lat[-1] if lat else 0, 2), live,
               db_bytes()] + [round(pct(kinds[k], 99), 2) for k in KINDS]
        out.write(",".join(map(str, row)) + "\n")
        out.flush()
        print("minute {:>3}: rss {} KiB (anon {}), fds {}, {} requests, {} errors, p50 {} ms, "
              "p99 {} ms, {} contexts".format(minute, row[1], row[2], row[3], row[5], row[6],
                                              row[7], row[9], row[11]), flush=True)
        if minute >= minutes:
            break
    if now >= next_due:
        jobs.put(next_due)
        next_due += interval
    else:
        time.sleep(min(next_due - now, 0.01))
for _ in threads:
    jobs.put(None)
