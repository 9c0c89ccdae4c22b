#!/usr/bin/env python3
"""Loads N contexts for the selection benchmark and writes the vocabulary the queries draw from.

  select_load.py PORT N VOCAB_FILE [AGENT]

Words are 3000 pseudo-words (syllables, some with accents) drawn with a Zipf distribution, so a
few words are in most contexts and most words in few, as in real notes; each context has 20-60
words in a `body` and 2-6 in a `title`, one of 20 tags and a priority. Four keep-alive connections.
"""
import http.client
import json
import random
import sys
import threading

port, n, vocab_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
agent = sys.argv[4] if len(sys.argv) > 4 else "bench"
rng = random.Random(6)
syllables = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi", "zo",
             "ción", "mán", "tré", "sí", "ñu", "ther", "ing", "ed", "ly", "str", "qu", "ar", "er"]
words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
                for _ in range(4000)})[:3000]
rng.shuffle(words)
with open(vocab_file, "w", encoding="utf-8") as f:
    f.write("\n".join(words) + "\n")
weights = [1.0 / (i + 1) for i in range(len(words))]


def body(r):
    return {"title": " ".join(r.choices(words, weights, k=r.randint(2, 6))),
            "body": " ".join(r.choices(words, weights, k=r.randint(20, 60)))}


def worker(part, count):
    r = random.Random(part)
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(count):
        doc = {"agent_id": agent, "context_data": body(r),
               "metadata": {"tags": ["t%d" % r.randrange(20)],
                            "priority": r.choice(["high", "medium", "low"])}}
        c.request("POST", "/api/context", json.dumps(doc),
                  {"Content-Type": "application/json", "X-Agent-Id": agent})
        resp = c.getresponse()
        resp.read()
        if resp.status != 201:
            sys.exit("create failed: %d" % resp.status)


threads = [threading.Thread(target=worker, args=(p, n // 4 + (1 if p < n % 4 else 0)))
           for p in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
