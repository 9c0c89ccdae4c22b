"""Retries: a loopback HTTP server that answers 503 or 429 before it answers 200, one that never
recovers, and no server at all; the waits are recorded instead of slept."""

from __future__ import annotations

import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from ctxmgr_client import Client, CtxmgrError, RetryPolicy
from ctxmgr_client._request import parse_retry_after


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, headers) of the server's script; the script's
    last entry repeats."""

    def _answer(self):
        srv = self.server
        srv.seen.append((self.command, self.path, dict(self.headers)))
        status, headers = srv.script[min(len(srv.seen), len(srv.script)) - 1]
        body = (json.dumps({"ok": True}) if status < 300 else json.dumps(
            {"error": {"code": "unavailable" if status == 503 else "rate_limited",
                       "message": "try later", "request_id": f"r{len(srv.seen)}"}})).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args):
        pass


class RetryTest(unittest.TestCase):
    def serve(self, script):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
        srv.script, srv.seen = script, []
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)  # cleanups run last first: after shutdown
        self.addCleanup(srv.shutdown)
        return srv, Client(f"http://127.0.0.1:{srv.server_address[1]}", agent_id="alice")

    def test_503_then_200_is_retried_honouring_retry_after(self):
        srv, client = self.serve([(503, {"Retry-After": "2"}), (429, {"Retry-After": "1"}),
                                  (200, {})])
        with mock.patch("ctxmgr_client.client.time.sleep") as slept:
            self.assertEqual(client.me(), {"ok": True})
        self.assertEqual(len(srv.seen), 3)
        self.assertEqual([c.args[0] for c in slept.call_args_list], [2.0, 1.0])

    def test_a_create_is_retried_with_the_same_idempotency_key(self):
        srv, client = self.serve([(503, {}), (201, {})])
        with mock.patch("ctxmgr_client.client.time.sleep"):
            client.create_context("alice", {"k": 1})
        keys = [h.get("Idempotency-Key") for _, _, h in srv.seen]
        self.assertEqual(len(keys), 2)
        self.assertTrue(keys[0])
        self.assertEqual(keys[0], keys[1])

    def test_retries_end_with_the_last_error(self):
        srv, client = self.serve([(503, {})])
        client.retry = RetryPolicy(max_retries=2)
        with mock.patch("ctxmgr_client.client.time.sleep") as slept:
            with self.assertRaises(CtxmgrError) as failed:
                client.me()
        self.assertEqual(len(srv.seen), 3)
        self.assertEqual(slept.call_count, 2)
        self.assertEqual((failed.exception.status, failed.exception.code), (503, "unavailable"))
        self.assertEqual(failed.exception.request_id, "r3")

    def test_no_server_retries_reads_but_not_patches(self):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
        port = srv.server_address[1]
        srv.server_close()  # nothing listens there now
        client = Client(f"http://127.0.0.1:{port}", agent_id="alice")
        with mock.patch("ctxmgr_client.client.time.sleep") as slept:
            with self.assertRaises(CtxmgrError) as read:
                client.me()
        self.assertEqual((read.exception.status, read.exception.code), (0, "connection"))
        self.assertEqual(slept.call_count, 3)
        with mock.patch("ctxmgr_client.client.time.sleep") as slept:
            with self.assertRaises(CtxmgrError):
                client.update_context("01936f3e-8c1a-7b2e-9f41-000000000001", {"x": 1})
        self.assertEqual(slept.call_count, 0)

    def test_retry_after_forms(self):
        self.assertEqual(parse_retry_after("3"), 3.0)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))
        self.assertAlmostEqual(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), 0.0)
        policy = RetryPolicy(base_delay=0.5, max_wait=4)
        self.assertEqual(policy.delay(0, "2"), 2.0)
        self.assertLessEqual(policy.delay(10, None), 4)  # backoff capped
        self.assertGreaterEqual(policy.delay(1, "600"), 0.75)  # too long a Retry-After: backoff


if __name__ == "__main__":
    unittest.main()
