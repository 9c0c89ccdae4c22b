"""The client's operations against docs/openapi.json: every operation the server documents has a
method (a new route without one fails here), and each method calls the method and path the
document gives its operationId."""

from __future__ import annotations

import inspect
import json
import os
import unittest

from ctxmgr_client import Client
from ctxmgr_client._operations import NOT_WRAPPED, OPERATIONS

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "openapi.json")


def documented():
    with open(DOC) as f:
        doc = json.load(f)
    ops = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops[op["operationId"]] = (method.upper(), path)
    return ops


def wrapped(cls):
    return {getattr(fn, "operation_id") for _, fn in inspect.getmembers(cls)
            if hasattr(fn, "operation_id")}


class OpenApiTest(unittest.TestCase):
    def test_every_documented_operation_has_a_method(self):
        missing = set(documented()) - set(OPERATIONS) - set(NOT_WRAPPED)
        self.assertEqual(missing, set(), "operations without a client method")
        self.assertEqual(set(OPERATIONS) - wrapped(Client), set(), "table rows without a method")

    def test_methods_call_the_documented_method_and_path(self):
        doc = documented()
        for op_id, (method, path) in OPERATIONS.items():
            self.assertIn(op_id, doc, f"{op_id} is not in docs/openapi.json")
            self.assertEqual((method, path), doc[op_id], op_id)

    def test_the_async_client_has_the_same_methods(self):
        try:
            from ctxmgr_client import AsyncClient
        except ImportError:
            self.skipTest("httpx is not installed")
        self.assertEqual(wrapped(AsyncClient), wrapped(Client))


if __name__ == "__main__":
    unittest.main()
