// Fake provider servers on loopback for the tests: they record every request they receive
// (headers and body) and answer from a script of responses the test sets: {status, headers,
// body} or {hang: ms} or {raw: text}. The bodies are the real wire formats (protocols.md §1-2):
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
      const step = script.shift() ?? { status: 500, body: { error: { message: "no scripted answer" } } };
      if (step.hang) { setTimeout(() => res.destroy(), step.hang); return; }
      res.writeHead(step.status ?? 200, { "content-type": "application/json", ...(step.headers ?? {}) });
      res.end(step.raw ?? JSON.stringify(step.body));
    });
  });
  await new Promise(resolve => server.listen(0, "127.0.0.1", resolve));
  return {
    root: `http://127.0.0.1:${server.address().port}`,
    url: `http://127.0.0.1:${server.address().port}/v1`,
    received,
    script,
    close: () => new Promise(resolve => { server.closeAllConnections?.(); server.close(resolve); }),
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
