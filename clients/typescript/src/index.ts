// @ctxmgr/client: Context Manager's REST API from TypeScript and JavaScript (Node 20, ESM).
export { Client, type ClientOptions, type PageOptions } from "./client.js";
export { CtxmgrError } from "./errors.js";
export { OPERATIONS, NOT_WRAPPED, type OperationId } from "./operations.js";
export { defaultRetry, parseRetryAfter, retryDelay, type RetryPolicy } from "./retry.js";
export { memoryToolHandlers, MemoryToolError, type MemoryToolHandlers } from "./memory.js";
export type * from "./types.js";
