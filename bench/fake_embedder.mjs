// A fake OpenAI-compatible embeddings server for the benchmarks (no model; Node's http only):
// each text's words hashed into DIMS buckets, normalised. It answers as fast as it can, so what
// bench/select.sh measures is ctxmgr's side of embedding and of semantic selection.
//   node bench/fake_embedder.mjs PORT [DIMS, default 384]
// PORT 0 lets the kernel pick one; the line "listening on http://127.0.0.1:PORT" on stdout says which.

import { createServer } from "node:http";

const port = Number(process.argv[2]);
const dims = Number(process.argv[3] ?? 384);

function vector(text) {
  const v = new Float64Array(dims);
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!word) continue;
    let h = 2166136261;
    for (const c of word) h = Math.imul(h ^ c.codePointAt(0), 16777619) >>> 0;
    v[h % dims] += 1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Array.from(v, x => Math.round((x / norm) * 1e4) / 1e4);
}

const server = createServer((req, res) => {
  let body = "";
  req.on("data", c => { body += c; });
  req.on("end", () => {
    const { model, input } = JSON.parse(body);
    const data = input.map((text, index) => ({ object: "embedding", index, embedding: vector(text) }));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "list", model, data }));
  });
});
server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
