"""Read-your-writes through the clients (docs/scaling.md), against a real primary and a streaming
replica of it whose replay is paused: a client reads its own writes (it sends back the newest
X-Ctxmgr-Consistency token it was answered); another client reads the replica's stale state until
it is handed that token; one made with read_your_writes=False does not read its writes."""

from __future__ import annotations

import asyncio
import time
import unittest

from ctxmgr_client import Client
from server import PG_DSN, PrimaryAndReplica, Server


def notes(client) -> str:
    return ",".join(sorted(c["context_data"]["note"] for c in client.list_contexts("ana")["items"]))


@unittest.skipUnless(PG_DSN, "no PostgreSQL here (CTXMGR_TEST_PG_DSN)")
class ReadYourWritesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PrimaryAndReplica()
        try:
            # A lag allowance far above the test's length: the paused replica stays in rotation.
            cls.server = Server(storage=(
                f"{{plugin: postgres, options: {{url: '{cls.pg.primary}', "
                f"replicas: ['{cls.pg.replica}'], replica_check_ms: 50, "
                "replica_max_lag_ms: 600000, replica_wait_ms: 200}}"))
        except Exception:
            cls.pg.stop()
            raise
        cls.url = cls.server.base_url
        deadline = time.monotonic() + 10
        probe = Client(cls.url)
        while not probe.ready().get("replicas", [{}])[0].get("in_rotation"):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica never entered the rotation")
            time.sleep(0.05)
        cls.pg.wait_replayed()  # the schema the server made is on the replica

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.pg.stop()

    def setUp(self):
        self.pg.on_replica("SELECT pg_wal_replay_pause()")
        self.addCleanup(self.pg.on_replica, "SELECT pg_wal_replay_resume()")

    def test_a_client_reads_its_writes_and_another_once_handed_the_token(self):
        writer = Client(self.url, agent_id="ana")
        self.assertIsNone(writer.consistency_token, "no write yet, no token")
        writer.create_context("ana", {"note": "uno"})
        first = writer.consistency_token
        self.assertRegex(first, r"^[0-9A-F]+/[0-9A-F]+$")
        self.assertIn("uno", notes(writer).split(","), "the writer reads its write")

        other = Client(self.url, agent_id="ana")
        self.assertNotIn("uno", notes(other).split(","), "another client reads the paused replica")
        other.use_consistency_token(first)
        self.assertIn("uno", notes(other).split(","), "handed the token, it reads the write")

        blind = Client(self.url, agent_id="ana", read_your_writes=False)
        blind.create_context("ana", {"note": "dos"})
        self.assertNotIn("dos", notes(blind).split(","),
                         "without read-your-writes, the replica's stale state")

        # The newer token is kept, whichever order they come in.
        writer.use_consistency_token(blind.consistency_token)
        newer = writer.consistency_token
        self.assertNotEqual(newer, first)
        writer.use_consistency_token(first)
        self.assertEqual(writer.consistency_token, newer)
        self.assertIn("dos", notes(writer).split(","))

    def test_the_async_client_reads_its_writes(self):
        try:
            from ctxmgr_client import AsyncClient
        except ImportError:
            self.skipTest("httpx is not installed")

        async def run():
            async with AsyncClient(self.url, agent_id="ana") as writer:
                await writer.create_context("ana", {"note": "tres"})
                self.assertIsNotNone(writer.consistency_token)
                page = await writer.list_contexts("ana")
                return [c["context_data"]["note"] for c in page["items"]]

        self.assertIn("tres", asyncio.run(run()))
        self.assertNotIn("tres", notes(Client(self.url, agent_id="ana")).split(","))


if __name__ == "__main__":
    unittest.main()
