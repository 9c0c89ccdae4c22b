// The interfaces of src/types.ts against docs/openapi.json's schemas: each interface marked
// `@schema Name` has exactly the schema's properties, required where the schema requires them
// (read with the TypeScript compiler's own parser).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import ts from "typescript";

const doc = JSON.parse(readFileSync(new URL("../../../docs/openapi.json", import.meta.url)));
const source = ts.createSourceFile("types.ts", readFileSync(new URL("../src/types.ts", import.meta.url), "utf8"),
                                   ts.ScriptTarget.ES2022, true);

const interfaces = [];
source.forEachChild((node) => {
  if (!ts.isInterfaceDeclaration(node)) return;
  const tag = ts.getJSDocTags(node).find((t) => t.tagName.text === "schema");
  if (!tag) return;
  const fields = {};
  for (const m of node.members) {
    if (ts.isPropertySignature(m)) fields[m.name.getText(source)] = !m.questionToken;
  }
  interfaces.push({ name: node.name.text, schema: String(tag.comment).trim(), fields });
});

// Schemas without an interface of their own, and why.
const UNTYPED = {
  Error: "thrown as CtxmgrError",
  Stats: "typed as a record",
  ContextCreate: "createContext's parameters", ContextPatch: "updateContext's parameters",
  Revert: "revertContext's parameter", GrantRequest: "grant*'s parameters",
  AgentCreate: "createAgent's parameters",
  ContextPage: "Page<Context>", HistoryPage: "Page<HistoryItem>", AgentPage: "Page<Agent>",
  AuditPage: "Page<AuditEvent>", SelectionPage: "Page<SelectionRecord>",
  ReceivedGrantPage: "Page<ReceivedGrant>", WebhookDeliveryPage: "Page<WebhookDelivery>",
  GrantList: "{items: Grant[]}", WebhookList: "{items: Webhook[]}",
  WebhookPayload: "what the server sends to a receiver, not an answer to the client",
};

test("every schema of the document has an interface (or a reason not to)", () => {
  const typed = new Set(interfaces.map((i) => i.schema));
  const missing = Object.keys(doc.components.schemas).filter((s) => !typed.has(s) && !(s in UNTYPED));
  assert.deepEqual(missing, []);
});

for (const { name, schema, fields } of interfaces) {
  test(`${name} matches components.schemas.${schema}`, () => {
    const s = doc.components.schemas[schema];
    assert.ok(s, `no schema ${schema}`);
    const required = new Set(s.required ?? []);
    const expected = Object.fromEntries(Object.keys(s.properties ?? {}).map((k) => [k, required.has(k)]));
    assert.deepEqual(fields, expected);
  });
}
