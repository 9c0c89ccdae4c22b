// The client's operations against docs/openapi.json: every operation the server documents has a
// row and a method (a new route without one fails here), and each row has the document's method
// and path.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Client, OPERATIONS, NOT_WRAPPED } from "../dist/index.js";

const doc = JSON.parse(readFileSync(new URL("../../../docs/openapi.json", import.meta.url)));
const documented = {};
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (["get", "post", "put", "patch", "delete"].includes(method)) documented[op.operationId] = [method.toUpperCase(), path];
  }
}

test("every documented operation has a row and a method", () => {
  const missing = Object.keys(documented).filter((id) => !(id in OPERATIONS) && !NOT_WRAPPED.includes(id));
  assert.deepEqual(missing, []);
  for (const [id, [, , method]] of Object.entries(OPERATIONS)) {
    assert.equal(typeof Client.prototype[method], "function", `${id}: Client.${method}`);
  }
});

test("each row has the document's method and path", () => {
  for (const [id, [method, path]] of Object.entries(OPERATIONS)) {
    assert.deepEqual([method, path], documented[id], id);
  }
});
