#!/usr/bin/env python3
"""Steady mixed load for the soak: a fixed request rate, whatever the answers take (an open
model: requests are scheduled by the clock, so a slow server cannot slow the load down), and a
sample of the server every minute.

  soak_load.py PORT PID MINUTES RATE CSV

Mix per second of RATE: 40 % reads, 20 % creates, 25 % patches (merge patches of recent
contexts), 10 % selections, 5 % history reads. Eight keep-alive workers. Every 60 s one CSV row:
minute, rss_kib, rss_anon_kib, open_fds, threads, requests, errors, p50_ms, p90_ms, p99_ms,
max_ms. (RSS counts the mapped database pages too; RssAnon is the heap: where a leak would show.)
"""
import http.client
import json
import os
import queue
import random
import sys
import threading
import time

port, pid, minutes, rate, csv_path = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]),
                                      float(sys.argv[4]), sys.argv[5])
words = ["factura", "cliente", "despliegue", "migración", "deploy", "invoice", "database",
         "prioridad", "agente", "contexto", "reunión", "informe", "pago", "servidor", "usuario"]
lock = threading.Lock()
latencies, errors, done = [], 0, 0
ids = []
jobs = queue.Queue(maxsize=10000)


def proc_value(name, field):
    with open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def one(conn, rnd):
    kind = rnd.random()
    headers = {"Content-Type": "application/json", "X-Agent-Id": "soak"}
    with lock:
        known = ids[-500:] if ids else []
    text = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 30)))
    if kind < 0.20 or not known:
        body = {"agent_id": "soak", "context_data": {"text": text, "n": rnd.randint(0, 10**6)},
                "metadata": {"tags": [rnd.choice(words)], "priority": rnd.choice(["high", "low"])}}
        conn.request("POST", "/api/context", json.dumps(body), headers)
    elif kind < 0.45:
        conn.request("PATCH", "/api/context/" + rnd.choice(known),
                     json.dumps({"context_data": {"text": text}}), headers)
    elif kind < 0.55:
        conn.request("POST", "/api/agent/soak/select",
                     json.dumps({"query": " ".join(rnd.sample(words, 2)), "limit": 5}), headers)
    elif kind < 0.60:
        conn.request("GET", "/api/context/" + rnd.choice(known) + "/history?limit=5",
                     headers=headers)
    else:
        conn.request("GET", "/api/context/" + rnd.choice(known), headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status == 201:
        with lock:
            ids.append(json.loads(data)["id"])
    return r.status


def worker(seed):
    global errors, done
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        due = jobs.get()
        if due is None:
            return
        start = time.monotonic()
        try:
            status = one(conn, rnd)
            ok = 200 <= status < 300
        except Exception:
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # Latency from when the request was due: queueing behind a slow server counts.
        ms = (time.monotonic() - min(due, start)) * 1000
        with lock:
            latencies.append(ms)
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
out.write("minute,rss_kib,rss_anon_kib,open_fds,threads,requests,errors,p50_ms,p90_ms,p99_ms,max_ms\n")
start = time.monotonic()
interval = 1.0 / rate
next_due = start
minute = 0
while True:
    now = time.monotonic()
    if now - start >= (minute + 1) * 60:
        minute += 1
        with lock:
            lat, n, e = sorted(latencies), done, errors
            latencies.clear()
            done = errors = 0
        row = [minute, proc_value("status", "VmRSS:"), proc_value("status", "RssAnon:"),
               len(os.listdir(f"/proc/{pid}/fd")),
               proc_value("status", "Threads:"), n, e, round(pct(lat, 50), 2),
               round(pct(lat, 90), 2), round(pct(lat, 99), 2), round(lat[-1] if lat else 0, 2)]
        out.write(",".join(map(str, row)) + "\n")
        out.flush()
        print("minute {:>3}: rss {} KiB (anon {}), fds {}, {} requests, {} errors, p50 {} ms, "
              "p99 {} ms".format(minute, row[1], row[2], row[3], row[5], row[6], row[7], row[9]),
              flush=True)
        if minute >= minutes:
            break
    if now >= next_due:
        jobs.put(next_due)
        next_due += interval
    else:
        time.sleep(min(next_due - now, 0.01))
for _ in threads:
    jobs.put(None)
