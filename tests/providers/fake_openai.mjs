// A fake OpenAI Chat Completions server on loopback for the tests: it speaks the real wire format
// (protocols.md §2), records every request it receives (headers and body), and answers from a
// script of responses the test sets: {status, headers, body} or {hang: ms} or {raw: text}.

import { createServer } from "node:http";

export async function startFakeOpenAI() {
  const received = [];
  const script = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", c => { body += c; });
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      const step = script.shift() ?? { status: 200, body: completion("default answer") };
      if (step.hang) { setTimeout(() => res.destroy(), step.hang); return; }
      res.writeHead(step.status ?? 200, { "content-type": "application/json", ...(step.headers ?? {}) });
      res.end(step.raw ?? JSON.stringify(step.body));
    });
  });
  await new Promise(resolve => server.listen(0, "127.0.0.1", resolve));
  return {
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
