"""A real `ctxmgr serve` for the client tests: SQLite in a temporary directory, or PostgreSQL
(CTXMGR_TEST_PG_DSN) in a schema of its own; trust or token mode; port 0, read from the log."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

BIN = os.environ.get("CTXMGR_BIN", "")
PLUGIN_DIR = os.environ.get("CTXMGR_PLUGIN_DIR", "")
PG_DSN = os.environ.get("CTXMGR_TEST_PG_DSN", "")


def backends():
    return ["sqlite"] + (["postgres"] if PG_DSN else [])


class Server:
    def __init__(self, backend: str = "sqlite", auth: str = "trust", extra_yaml: str = "",
                 storage: str = ""):
        """`storage`: the `storage:` mapping's YAML, instead of the backend's default."""
        if not BIN or not PLUGIN_DIR:
            raise RuntimeError("CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set")
        self.dir = tempfile.mkdtemp(prefix="ctxmgr-pyclient-")
        self.config = os.path.join(self.dir, "ctxmgr.yaml")
        if storage:
            pass  # the caller's
        elif backend == "sqlite":
            storage = f"{{plugin: sqlite, options: {{path: {self.dir}/context.db}}}}"
        else:
            schema = "pyc_" + uuid.uuid4().hex[:12]
            storage = f"{{plugin: postgres, options: {{url: '{PG_DSN}', schema: {schema}}}}}"
        with open(self.config, "w") as f:
            f.write(f"plugins: {{search_paths: [{PLUGIN_DIR}]}}\n"
                    f"service: {{auth: {auth}}}\n"
                    f"storage: {storage}\n"
                    "selectors: [{plugin: keyword}, {plugin: priority}, {plugin: recency}]\n"
                    "providers: [{plugin: offline}]\n"
                    "transports: [{plugin: http, options: {listen: \"127.0.0.1:0\"}}]\n"
                    + extra_yaml)
        self.admin_token = None
        if auth == "token":
            out = subprocess.run([BIN, "--config", self.config, "agent", "create", "root",
                                  "--role", "admin"], check=True, capture_output=True, text=True)
            self.admin_token = out.stdout.strip().splitlines()[0]
        self.proc = subprocess.Popen([BIN, "--config", self.config, "serve"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.port = self._port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _port(self, timeout: float = 20.0) -> int:
        found = {}
        done = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"listening on http://\S*:(\d+) with ", line)
                if m and "port" not in found:
                    found["port"] = int(m.group(1))
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()
        done.wait(timeout)
        if "port" not in found:
            self.stop()
            raise RuntimeError("ctxmgr serve did not start:\n" + "".join(self.log))
        return found["port"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


PG_TEMP = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "pg-temp.sh")


def _exported(text: str) -> dict:
    """The `export NAME=value` lines scripts/pg-temp.sh prints."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r"^export (\w+)='?([^'\n]*?)'?$", text, re.M)}


class PrimaryAndReplica:
    """A PostgreSQL primary and a streaming replica of it (scripts/pg-temp.sh start, then replica:
    pg_basebackup -R, real replication), each in a folder of its own."""

    def __init__(self) -> None:
        p = _exported(self._run("start"))
        try:
            r = _exported(self._run("replica", p["CTXMGR_TEST_PG_DIR"]))
        except Exception:
            self._run("stop", p["CTXMGR_TEST_PG_DIR"])
            raise
        self._dirs = [r["CTXMGR_TEST_PG_REPLICA_DIR"], p["CTXMGR_TEST_PG_DIR"]]
        self.primary = p["CTXMGR_TEST_PG_DSN"]
        self.replica = r["CTXMGR_TEST_PG_REPLICA_DSN"]

    @staticmethod
    def _run(*args: str) -> str:
        return subprocess.run(["/bin/bash", PG_TEMP, *args], check=True, capture_output=True,
                              text=True).stdout

    @staticmethod
    def psql(dsn: str, sql: str) -> str:
        return subprocess.run(["/usr/bin/psql", dsn, "-Atc", sql], check=True,
                              capture_output=True, text=True).stdout.strip()

    def on_replica(self, sql: str) -> str:
        return self.psql(self.replica, sql)

    def wait_replayed(self, timeout: float = 10.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        lsn = self.psql(self.primary, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while self.on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'") != "t":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica did not replay {lsn} in {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        for d in self._dirs:
            self._run("stop", d)
