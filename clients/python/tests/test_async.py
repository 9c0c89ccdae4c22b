"""AsyncClient (httpx) against a real server: the same calls awaited, its pages, its event
stream, and the OpenAI session on top of it."""

from __future__ import annotations

import asyncio
import unittest

from ctxmgr_client import CtxmgrError, Session
from server import Server

try:
    from ctxmgr_client import AsyncClient
except ImportError:  # pragma: no cover - install-deps.sh installs python3-httpx
    AsyncClient = None


@unittest.skipIf(AsyncClient is None, "httpx is not installed")
class AsyncClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("sqlite")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_calls_pages_errors_and_events(self):
        async def run():
            async with AsyncClient(self.server.base_url, agent_id="ana") as c:
                made = await c.create_context("ana", {"n": 0})
                updated = await c.update_context(made["id"], {"n": 1}, if_version=1)
                self.assertEqual(updated["version"], 2)
                with self.assertRaises(CtxmgrError) as stale:
                    await c.update_context(made["id"], {"n": 2}, if_version=1)
                self.assertEqual(stale.exception.current_version, 2)
                for i in range(4):
                    await c.create_context("ana", {"n": 10 + i})
                seen = [x["id"] async for x in c.pages(c.list_contexts, "ana", limit=2)]
                self.assertEqual(len(seen), 5)
                feed = c.events(action="update")
                first = asyncio.ensure_future(feed.__anext__())
                event = None
                for _ in range(50):  # until the stream is open and sees one
                    await c.update_context(made["id"], {"tick": True})
                    done, _ = await asyncio.wait({first}, timeout=0.1)
                    if done:
                        event = first.result()
                        break
                self.assertIsNotNone(event)
                self.assertEqual(event["context_id"], made["id"])
                await feed.aclose()
                session = Session("s1", c, "ana")
                await session.add_items([{"role": "user", "content": "hola"}])
                self.assertEqual(len(await session.get_items()), 1)

        asyncio.run(run())


if __name__ == "__main__":
    unittest.main()
