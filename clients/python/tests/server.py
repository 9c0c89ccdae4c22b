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
    def __init__(self, backend: str = "sqlite", auth: str = "trust", extra_yaml: str = ""):
        if not BIN or not PLUGIN_DIR:
            raise RuntimeError("CTXMGR_BIN and CTXMGR_PLUGIN_DIR must be set")
        self.dir = tempfile.mkdtemp(prefix="ctxmgr-pyclient-")
        self.config = os.path.join(self.dir, "ctxmgr.yaml")
        if backend == "sqlite":
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
