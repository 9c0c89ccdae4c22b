// Fake provider servers on loopback for the tests: they record every request they receive
// (headers and body) and answer from a script of responses the test sets: {status, headers,
// body}, {hang: ms}, {raw: text} or {sse: text, cut: bool}; `delay: ms` beside any of them answers
// that much later. The bodies are the real wire formats (protocols.md §1-2):
// completion() / openaiError() for OpenAI, message() / anthropicError() for Anthropic.

import { createServer } from "node:http";

export async function startFakeProvider() {
  const received = [];
  const script = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", c => { body += c; });
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      const step = script.shift() ?? fake.fallback?.(received.at(-1)) ??
        { status: 500, body: { error: { message: "no scripted answer" } } };
      if (step.delay) { setTimeout(() => answer(step), step.delay); return; }
      answer(step);
    });
    const answer = step => {
      if (step.hang) { setTimeout(() => res.destroy(), step.hang); return; }
      if (step.sse !== undefined) {  // a stream; `cut` drops the connection before its end
        res.writeHead(step.status ?? 200, { "content-type": "text/event-stream" });
        res.write(step.sse);
        if (step.cut) setTimeout(() => res.destroy(), 20); else res.end();
        return;
      }
      res.writeHead(step.status ?? 200, { "content-type": "application/json", ...(step.headers ?? {}) });
      res.end(step.raw ?? JSON.stringify(step.body));
    };
  });
  await new Promise(resolve => server.listen(0, "127.0.0.1", resolve));
  // `fallback(request)`: the answer when the script is empty (else a 500).
  const fake = {
    root: `http://127.0.0.1:${server.address().port}`,
    url: `http://127.0.0.1:${server.address().port}/v1`,
    received,
    script,
    fallback: undefined,
    close: () => new Promise(resolve => { server.closeAllConnections?.(); server.close(resolve); }),
  };
  return fake;
}

// Words the fake "understands" alike across languages, as a real model would: each maps to one
// concept before hashing, so `cobros` lands beside `facturación` and `invoices`.
const CONCEPTS = { cobros: "billing", facturación: "billing", facturacion: "billing",
                   invoices: "billing", billing: "billing", factura: "billing" };

// A deterministic embedding of a text: its words (or their concept) hashed into `dims` buckets
// (no model; the same text always gives the same vector, texts sharing words get close vectors).
export function fakeVector(text, dims = 256) {
  const v = new Array(dims).fill(0);
  for (const raw of text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)) {
    const word = CONCEPTS[raw] ?? raw;
    let h = 2166136261;
    for (const c of word) h = Math.imul(h ^ c.codePointAt(0), 16777619) >>> 0;
    v[h % dims] += 1;
  }
  return v;
}

// The OpenAI embeddings answer to a request body {model, input: [texts]}.
export function embeddings(body, dims = 256) {
  const { model, input } = JSON.parse(body);
  return {
    object: "list", model,
    data: input.map((text, index) => ({ object: "embedding", index, embedding: fakeVector(text, dims) })),
    usage: { prompt_tokens: input.length, total_tokens: input.length },
  };
}

export function completion(text, { model = "gpt-fake-1", finish = "stop", prompt = 11, out = 3 } = {}) {
  return {
    id: "chatcmpl-test", object: "chat.completion", created: 1741570283, model,
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null },
                logprobs: null, finish_reason: finish }],
    usage: { prompt_tokens: prompt, completion_tokens: out, total_tokens: prompt + out },
  };
}

export const openaiError = (message, type, code) => ({ error: { message, type, param: null, code } });

export function message(blocks, { model = "claude-fake-1", stop = "end_turn", input = 21, output = 5,
                                  cacheRead = 0, cacheWrite = 0 } = {}) {
  return {
    id: "msg_test", type: "message", role: "assistant", model,
    content: blocks.map(text => ({ type: "text", text })),
    stop_reason: stop, stop_sequence: null,
    usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: cacheWrite,
             cache_read_input_tokens: cacheRead },
  };
}

export const anthropicError = (type, message) => ({ type: "error", error: { type, message } });

// An Anthropic answer that calls tools: optional text, then one tool_use block per [id, input]
// (stop_reason tool_use).
export function toolUse(calls, { text = "", name = "memory" } = {}) {
  return {
    id: "msg_tool", type: "message", role: "assistant", model: "claude-fake-1",
    content: [...(text ? [{ type: "text", text }] : []),
              ...calls.map(([id, input]) => ({ type: "tool_use", id, name, input }))],
    stop_reason: "tool_use", stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

// The OpenAI answer that calls functions: one tool call per [id, arguments] (finish_reason
// tool_calls); `args` may be an object (serialised) or raw text (a model's malformed JSON).
export function toolCalls(calls, { name = "memory" } = {}) {
  return {
    id: "chatcmpl-tool", object: "chat.completion", created: 1741570283, model: "gpt-fake-1",
    choices: [{ index: 0, finish_reason: "tool_calls", logprobs: null, message: {
      role: "assistant", content: null, refusal: null,
      tool_calls: calls.map(([id, args]) => ({ id, type: "function",
        function: { name, arguments: typeof args === "string" ? args : JSON.stringify(args) } })) } }],
    usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
  };
}

// An OpenAI stream: a role chunk, one chunk per text, the finish chunk, the usage chunk, [DONE].
export function openaiStream(texts, { done = true, usage = { prompt_tokens: 40, completion_tokens: 6 } } = {}) {
  const chunk = (delta, finish = null, extra = {}) => `data: ${JSON.stringify({
    id: "chatcmpl-s", object: "chat.completion.chunk", created: 1694268190, model: "gpt-fake-1",
    choices: delta === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null, ...extra })}\n\n`;
  let out = chunk({ role: "assistant", content: "" });
  for (const t of texts) out += chunk({ content: t });
  out += chunk({}, "stop");
  out += chunk(null, null, { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
  if (done) out += "data: [DONE]\n\n";
  return out;
}

// An Anthropic stream: message_start, a text block with one delta per text, message_delta, message_stop.
export function anthropicStream(texts, { stop = true } = {}) {
  const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  let out = ev("message_start", { type: "message_start", message: { id: "msg_s", type: "message", role: "assistant",
    model: "claude-fake-1", content: [], stop_reason: null, usage: { input_tokens: 25, output_tokens: 1,
    cache_read_input_tokens: 500, cache_creation_input_tokens: 0 } } });
  out += ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
  out += ev("ping", { type: "ping" });
  for (const t of texts) out += ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: t } });
  out += ev("content_block_stop", { type: "content_block_stop", index: 0 });
  out += ev("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 9 } });
  if (stop) out += ev("message_stop", { type: "message_stop" });
  return out;
}

// The events of a text/event-stream body: [{event, data}] with data parsed as JSON.
export function parseSse(text) {
  return text.split("\n\n").filter(b => b.trim()).map(block => {
    const lines = block.split("\n");
    const event = lines.find(l => l.startsWith("event: "))?.slice(7);
    const data = lines.filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("\n");
    return { event, data: JSON.parse(data) };
  });
}
