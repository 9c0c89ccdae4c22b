// Claude's memory tool served by Context Manager: handlers for @anthropic-ai/sdk's
// `betaMemoryTool` (view, create, str_replace, insert, delete, rename) that forward every command
// to POST /api/agent/{id}/memory (docs/memory-tool.md), so memory files are versioned, shared,
// audited contexts:
//   client.beta.messages.toolRunner({ ..., tools: [betaMemoryTool(memoryToolHandlers(ctx, "alice"))] })
// The model's mistakes (no such file, old_str absent) throw, which the tool runner sends back to
// the model as an error result.

import type { Client } from "./client.js";
import type { MemoryCommand } from "./types.js";

export class MemoryToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryToolError";
  }
}

type Handler = (command: MemoryCommand) => Promise<string>;
export type MemoryToolHandlers = Record<MemoryCommand["command"], Handler>;

export function memoryToolHandlers(client: Client, agentId: string): MemoryToolHandlers {
  const forward: Handler = async (command) => {
    const answer = await client.memory(agentId, command);
    if (answer.is_error) throw new MemoryToolError(answer.content);
    return answer.content;
  };
  return { view: forward, create: forward, str_replace: forward, insert: forward,
           delete: forward, rename: forward };
}
