// Server-sent events as the server writes them (GET /api/events, a streamed process): `id:`,
// `event:`, `data:` lines, comments (": heartbeat"), an empty line ending an event.

export interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let event: string | undefined;
  let id: string | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        if (line === "") {
          if (data.length) yield { event: event ?? "message", id, data: JSON.parse(data.join("\n")) };
          data = [];
          event = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? "" : line.slice(colon + 1);
        if (v.startsWith(" ")) v = v.slice(1);
        if (name === "data") data.push(v);
        else if (name === "event") event = v;
        else if (name === "id") id = v;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
