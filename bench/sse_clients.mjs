// N clients of GET /api/events for the change-feed bench (bench/events.sh): each counts the events
// it receives; after `secs` seconds all close and one line reports the totals.
//   node bench/sse_clients.mjs PORT AGENT N SECS
// Prints: RESULT clients=N events=<all clients> per_client_min=<fewest> per_client_max=<most>

const [port, agent, n, secs] = process.argv.slice(2);
const counts = new Array(Number(n)).fill(0);
const controller = new AbortController();

async function client(i) {
  const r = await fetch(`http://127.0.0.1:${port}/api/events`, {
    headers: { "X-Agent-Id": agent, Accept: "text/event-stream" }, signal: controller.signal });
  if (r.status !== 200) throw new Error(`stream ${i}: ${r.status} ${await r.text()}`);
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of r.body) {
      pending += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = pending.indexOf("\n\n")) >= 0) {
        if (pending.startsWith("id: ")) counts[i]++;
        pending = pending.slice(at + 2);
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") throw e;
  }
}

const running = counts.map((_, i) => client(i));
// Tell the caller the streams are open before it starts the writers.
await new Promise(r => setTimeout(r, 500));
console.log("READY");
await new Promise(r => setTimeout(r, Number(secs) * 1000));
controller.abort();
await Promise.allSettled(running);
const total = counts.reduce((a, b) => a + b, 0);
console.log(`RESULT clients=${n} events=${total} per_client_min=${Math.min(...counts)} ` +
            `per_client_max=${Math.max(...counts)}`);
