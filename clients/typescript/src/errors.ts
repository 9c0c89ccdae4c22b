// The one error every failed call throws: the server's error body (API.md: Errors) and status.

export class CtxmgrError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The API's error code (not_found, precondition_failed, ...; "connection" without answer). */
  readonly code: string;
  /** The X-Request-Id to look for in the server's log. */
  readonly requestId: string | undefined;
  /** The whole `error` object (a 412 carries `current_version`). */
  readonly body: Record<string, unknown>;

  constructor(status: number, code: string, message: string, requestId?: string,
              body: Record<string, unknown> = {}) {
    super(`${status} ${code}: ${message}${requestId ? ` (request id ${requestId})` : ""}`);
    this.name = "CtxmgrError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.body = body;
  }

  /** For a 412: the context's version now, to read again and retry. */
  get currentVersion(): number | undefined {
    const v = this.body.current_version;
    return typeof v === "number" ? v : undefined;
  }

  /** The error of an answer whose status is not 2xx (a body that is not the API's is kept). */
  static fromAnswer(status: number, text: string, requestId: string | null): CtxmgrError {
    try {
      const err = JSON.parse(text).error;
      if (err && typeof err === "object") {
        return new CtxmgrError(status, String(err.code ?? "unknown"), String(err.message ?? ""),
                               err.request_id ?? requestId ?? undefined, err);
      }
    } catch {
      // not the API's body: kept as the message below
    }
    return new CtxmgrError(status, "unknown", text.slice(0, 200) || `HTTP ${status}`,
                           requestId ?? undefined);
  }
}
