"""Every operation of the blocking client against a real server, on SQLite and on PostgreSQL:
answers, errors (code, message, request id, status), paging, ETag conflicts, idempotent
creates, streams."""

from __future__ import annotations

import threading
import unittest
import uuid

from ctxmgr_client import Client, CtxmgrError
from server import PG_DSN, Server


class ClientCases:
    backend = "sqlite"

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.backend, auth="token")
        cls.root = Client(cls.server.base_url, token=cls.server.admin_token)
        cls.tokens = {}
        for name in ("alice", "bob"):
            cls.tokens[name] = cls.root.create_agent(name, display_name=name.title())["token"]
        cls.alice = Client(cls.server.base_url, token=cls.tokens["alice"])
        cls.bob = Client(cls.server.base_url, token=cls.tokens["bob"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_context_lifecycle_versions_and_conflicts(self):
        made = self.alice.create_context("alice", {"note": "uno"}, {"priority": "high"})
        self.assertEqual(made["version"], 1)
        cid = made["id"]
        self.assertEqual(self.alice.get_context(cid)["context_data"], {"note": "uno"})
        two = self.alice.update_context(cid, {"extra": 2}, if_version=1)
        self.assertEqual(two["version"], 2)
        self.assertEqual(two["context_data"], {"note": "uno", "extra": 2})
        with self.assertRaises(CtxmgrError) as stale:
            self.alice.update_context(cid, {"x": 1}, if_version=1)
        self.assertEqual(stale.exception.status, 412)
        self.assertEqual(stale.exception.code, "precondition_failed")
        self.assertEqual(stale.exception.current_version, 2)
        self.assertEqual(self.alice.get_context(cid, version=1)["context_data"], {"note": "uno"})
        self.assertEqual(self.alice.revert_context(cid, 1)["version"], 3)
        history = self.alice.context_history(cid)
        self.assertEqual([h["action"] for h in history["items"]], ["revert", "update", "create"])
        self.assertIsNone(self.alice.delete_context(cid))
        with self.assertRaises(CtxmgrError) as gone:
            self.alice.get_context(cid)
        self.assertEqual((gone.exception.status, gone.exception.code), (404, "not_found"))
        self.assertTrue(gone.exception.request_id)
        self.assertIn(gone.exception.request_id, str(gone.exception))
        redacted = self.alice.redact_version(cid, 2)
        self.assertEqual(redacted["version"], 2)

    def test_a_retried_create_makes_one_context(self):
        key = str(uuid.uuid4())
        first = self.alice.create_context("alice", {"k": 1}, idempotency_key=key)
        again = self.alice.create_context("alice", {"k": 1}, idempotency_key=key)
        self.assertEqual(first["id"], again["id"])
        with self.assertRaises(CtxmgrError) as other:
            self.alice.create_context("alice", {"k": 2}, idempotency_key=key)
        self.assertEqual(other.exception.status, 409)

    def test_pages_are_followed_to_the_end(self):
        tag = "page-" + uuid.uuid4().hex[:8]
        ids = {self.alice.create_context("alice", {"n": i}, {"tags": [tag]})["id"]
               for i in range(5)}
        first = self.alice.list_contexts("alice", limit=2, tag=tag)
        self.assertEqual(len(first["items"]), 2)
        self.assertTrue(first["next_cursor"])
        seen = [c["id"] for c in self.alice.iter_contexts("alice", tag=tag, limit=2)]
        self.assertEqual(len(seen), 5)
        self.assertEqual(set(seen), ids)
        events = list(self.alice.iter_audit(action="create", agent_id="alice", limit=3))
        self.assertGreaterEqual(len(events), 5)
        self.assertEqual(len(list(self.alice.iter_history(seen[0], limit=1))), 1)

    def test_errors_carry_the_api_body(self):
        with self.assertRaises(CtxmgrError) as bad:
            self.alice.get_context("not-an-id")
        self.assertEqual((bad.exception.status, bad.exception.code), (400, "invalid_request"))
        with self.assertRaises(CtxmgrError) as forbidden:
            self.alice.create_context("bob", {"x": 1})
        self.assertEqual(forbidden.exception.status, 403)
        with self.assertRaises(CtxmgrError) as anonymous:
            Client(self.server.base_url).me()
        self.assertEqual((anonymous.exception.status, anonymous.exception.code),
                         (401, "unauthenticated"))
        with self.assertRaises(ValueError):
            Client(self.server.base_url, token="t", agent_id="a")

    def test_selection_processing_and_memory(self):
        self.alice.create_context("alice", {"tema": "búsqueda de vuelos baratos"})
        found = self.alice.select("alice", "busqueda vuelos", limit=3)
        self.assertGreaterEqual(len(found["items"]), 1)
        record = self.alice.get_selection(found["selection_id"])
        self.assertEqual(record["query"], "busqueda vuelos")
        self.assertEqual(self.alice.list_selections("alice", limit=1)["items"][0]["id"],
                         found["selection_id"])
        answer = self.alice.process("alice", [{"role": "user", "content": "vuelos"}],
                                    provider="offline")
        self.assertTrue(answer["output_text"])
        stream = self.alice.process_stream("alice", [{"role": "user", "content": "vuelos"}],
                                           provider="offline")
        text, done = "", None
        try:
            while True:
                text += next(stream)
        except StopIteration as end:
            done = end.value
        self.assertEqual(text, done["output_text"])
        made = self.alice.memory("alice", {"command": "create", "path": "/memories/a.md",
                                           "file_text": "hola"})
        self.assertFalse(made["is_error"])
        seen = self.alice.memory("alice", {"command": "view", "path": "/memories/a.md"})
        self.assertIn("hola", seen["content"])
        files = self.alice.list_contexts("alice", path_prefix="/memories/")
        self.assertEqual(len(files["items"]), 1)

    def test_sharing_agents_and_administration(self):
        cid = self.alice.create_context("alice", {"shared": True})["id"]
        with self.assertRaises(CtxmgrError):
            self.bob.get_context(cid)
        self.assertEqual(self.alice.grant_context(cid, "bob", "write")["permission"], "write")
        self.assertEqual(self.bob.get_context(cid)["id"], cid)
        self.assertEqual(self.alice.context_grants(cid)["items"][0]["agent_id"], "bob")
        received = self.bob.received_grants("bob")["items"]
        self.assertIn(cid, [g.get("context_id") for g in received])
        self.assertIsNone(self.alice.revoke_context(cid, "bob"))
        self.alice.grant_owner("alice", "bob")
        self.assertEqual(self.alice.owner_grants("alice")["items"][0]["agent_id"], "bob")
        self.assertIsNone(self.alice.revoke_owner("alice", "bob"))
        self.assertEqual(self.alice.me()["agent_id"], "alice")
        self.assertEqual(self.alice.get_agent("alice")["display_name"], "Alice")
        self.assertIn("bob", [a["agent_id"] for a in self.root.pages(self.root.list_agents)])
        carol = self.root.create_agent("carol-" + uuid.uuid4().hex[:6])
        name = carol["agent"]["agent_id"]
        rotated = self.root.rotate_token(name)
        self.assertNotEqual(rotated["token"], carol["token"])
        self.assertEqual(Client(self.server.base_url, token=rotated["token"]).me()["agent_id"],
                         name)
        self.assertIsNone(self.root.disable_agent(name))
        self.assertTrue(self.root.get_agent(name)["disabled"])
        gone = self.root.create_agent("erased-" + uuid.uuid4().hex[:6])["agent"]["agent_id"]
        self.root.create_context(gone, {"bye": True})
        report = self.root.disable_agent(gone, erase=True)
        self.assertEqual((report["agent_id"], report["contexts"]), (gone, 1))
        self.assertEqual(self.root.list_contexts(gone)["items"], [])
        self.assertTrue(self.root.verify_audit()["ok"])
        self.assertGreaterEqual(self.root.stats()["totals"]["contexts"], 1)
        self.assertEqual(self.root.health()["status"], "ok")
        self.root.ready()
        self.assertIn("ctxmgr_http_requests_total", self.root.metrics())
        self.assertEqual(self.root.openapi()["openapi"], "3.1.0")

    def test_webhooks(self):
        hook = self.alice.create_webhook("http://127.0.0.1:9/hook", "s" * 20, agent_id="alice")
        hid = hook["id"]
        self.assertNotIn("secret", hook)
        self.assertEqual(self.alice.get_webhook(hid)["url"], "http://127.0.0.1:9/hook")
        self.assertIn(hid, [w["id"] for w in self.alice.list_webhooks()["items"]])
        self.assertEqual(self.alice.webhook_deliveries(hid)["items"], [])
        self.assertIsNone(self.alice.delete_webhook(hid))
        with self.assertRaises(CtxmgrError) as gone:
            self.alice.get_webhook(hid)
        self.assertEqual(gone.exception.status, 404)

    def test_the_change_feed_streams_events(self):
        got = []
        stream = self.alice.events(action="create")
        ready = threading.Event()

        def read():
            ready.set()
            for ev in stream:
                got.append(ev)
                break

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        ready.wait()
        made = None
        for _ in range(50):  # the stream opens while we create
            made = self.alice.create_context("alice", {"feed": True})
            reader.join(0.1)
            if got:
                break
        self.assertTrue(got, "no event arrived")
        self.assertEqual(got[0]["action"], "create")
        self.assertEqual(got[0]["agent_id"], "alice")
        self.assertIsInstance(got[0]["seq"], int)
        # Resuming after the last seen seq gives what came after it.
        after = self.alice.events(action="create", after=got[0]["seq"])
        self.alice.create_context("alice", {"feed": "later"})
        nxt = next(after)
        self.assertGreater(nxt["seq"], got[0]["seq"])
        after.close()
        self.assertIsNotNone(made)


class SqliteClientTest(ClientCases, unittest.TestCase):
    backend = "sqlite"


@unittest.skipUnless(PG_DSN, "CTXMGR_TEST_PG_DSN is not set")
class PostgresClientTest(ClientCases, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
