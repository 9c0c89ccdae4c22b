"""The adapters against a real server: Claude's memory tool handler (commands forwarded, the
model's mistakes as ToolError, clear_all_memory) and the OpenAI Agents SDK session (items kept in
order, pop, clear, and concurrent writers losing nothing)."""

from __future__ import annotations

import asyncio
import threading
import unittest
import uuid

from ctxmgr_client import Client, MemoryTool, Session
from ctxmgr_client.memory_tool import ToolError
from server import PG_DSN, Server


class Command:
    """Stands in for the SDK's command objects: attributes, some None."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class AdapterCases:
    backend = "sqlite"

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.backend)
        cls.client = Client(cls.server.base_url, agent_id="alice")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_memory_tool_commands(self):
        tool = MemoryTool(self.client, "alice")
        self.assertIn("created", tool.create(Command(command="create", path="/memories/n.md",
                                                      file_text="uno\ndos\n")))
        tool.str_replace({"command": "str_replace", "path": "/memories/n.md", "old_str": "dos",
                          "new_str": "tres"})
        tool.insert(Command(command="insert", path="/memories/n.md", insert_line=0,
                            insert_text="cero", view_range=None))
        seen = tool.view(Command(command="view", path="/memories/n.md", view_range=None))
        self.assertRegex(seen, r"cero[\s\S]*uno[\s\S]*tres")
        tool.rename({"command": "rename", "old_path": "/memories/n.md",
                     "new_path": "/memories/m.md"})
        self.assertIn("m.md", tool.execute({"command": "view", "path": "/memories"}))
        with self.assertRaises(ToolError) as mistake:
            tool.view({"command": "view", "path": "/memories/absent.md"})
        self.assertIn("absent.md", str(mistake.exception))
        with self.assertRaises(ToolError):
            tool.str_replace({"command": "str_replace", "path": "/memories/m.md",
                              "old_str": "nowhere", "new_str": "x"})
        tool.create({"command": "create", "path": "/memories/dir/o.md", "file_text": "o"})
        self.assertEqual(tool.clear_all_memory(), "Deleted 2 memory file(s)")
        self.assertEqual(self.client.list_contexts("alice", path_prefix="/memories/")["items"], [])
        # Every command was a version of a context: the history holds them.
        self.assertGreaterEqual(len(self.client.audit(agent_id="alice", limit=20)["items"]), 5)

    def test_session_keeps_items_in_order(self):
        async def run():
            s = Session("conv-" + uuid.uuid4().hex[:6], self.client, "alice")
            self.assertEqual(await s.get_items(), [])
            self.assertIsNone(await s.pop_item())
            await s.add_items([{"role": "user", "content": "hola"}])
            await s.add_items([{"role": "assistant", "content": "¿qué tal?"},
                               {"role": "user", "content": "bien"}])
            self.assertEqual([i["content"] for i in await s.get_items()],
                             ["hola", "¿qué tal?", "bien"])
            self.assertEqual([i["content"] for i in await s.get_items(limit=2)],
                             ["¿qué tal?", "bien"])
            self.assertEqual((await s.pop_item())["content"], "bien")
            # Another process with the same session id sees the same items.
            other = Session(s.session_id, Client(self.server.base_url, agent_id="alice"), "alice")
            self.assertEqual(len(await other.get_items()), 2)
            await other.clear_session()
            self.assertEqual(await s.get_items(), [])

        asyncio.run(run())

    def test_concurrent_writers_lose_no_item(self):
        sid = "busy-" + uuid.uuid4().hex[:6]

        def writer(n):
            async def add():
                s = Session(sid, Client(self.server.base_url, agent_id="alice"), "alice",
                            max_conflicts=100)
                for i in range(5):
                    await s.add_items([{"writer": n, "i": i}])

            asyncio.run(add())

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        items = asyncio.run(Session(sid, self.client, "alice").get_items())
        self.assertEqual(len(items), 20)
        for n in range(4):  # each writer's items in its order
            self.assertEqual([x["i"] for x in items if x["writer"] == n], list(range(5)))


class SqliteAdapterTest(AdapterCases, unittest.TestCase):
    backend = "sqlite"


@unittest.skipUnless(PG_DSN, "CTXMGR_TEST_PG_DSN is not set")
class PostgresAdapterTest(AdapterCases, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
