// The API's answers and bodies, written against docs/openapi.json's components (snake_case, as
// on the wire); test/types.test.mjs checks each interface's fields and their optionality
// against its schema, so a change of the document without one here fails the tests.

/** @schema Metadata */
export interface Metadata {
  priority?: "high" | "medium" | "low";
  tags?: string[];
  expires_at?: string;
  path?: string;
  [key: string]: unknown;
}

/** @schema Context */
export interface Context {
  id: string;
  agent_id: string;
  context_data: Record<string, unknown>;
  metadata: Metadata;
  version: number;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
  deleted?: boolean;
}

/** @schema HistoryItem */
export interface HistoryItem {
  version: number;
  action: "create" | "update" | "delete" | "revert";
  agent_id: string;
  at: string;
  context_data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** A page of a list: pass `next_cursor` back for the next one (null on the last). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** @schema Grant */
export interface Grant {
  agent_id: string;
  permission: "read" | "write";
  granted_by: string;
  granted_at: string;
}

/** @schema ReceivedGrant */
export interface ReceivedGrant {
  scope: "owner" | "context";
  context_id?: string;
  owner_id: string;
  permission: "read" | "write";
  granted_by: string;
  granted_at: string;
}

/** @schema Agent */
export interface Agent {
  agent_id: string;
  display_name: string;
  role: "agent" | "admin";
  created_at: string;
  disabled: boolean;
}

/** @schema AgentCreated */
export interface AgentCreated {
  agent: Agent;
  token: string;
}

/** @schema Token */
export interface Token {
  agent_id: string;
  token: string;
}

/** @schema Me */
export interface Me {
  agent_id: string;
  role: string;
  auth_mode: "trust" | "token";
}

/** @schema AuditEvent */
export interface AuditEvent {
  seq: number;
  at: string;
  agent_id: string;
  action: string;
  context_id?: string | null;
  transport: string;
  request_id: string;
  details: Record<string, unknown>;
}

/** @schema AuditVerify */
export interface AuditVerify {
  ok: boolean;
  checked: number;
  sealed_through: number;
  first_bad?: number;
}

/** @schema SelectRequest */
export interface SelectRequest {
  query: string;
  limit?: number;
  token_budget?: number;
  selector?: string;
  include_shared?: boolean;
  translate?: boolean;
  synonyms?: boolean;
  expand?: boolean;
  fusion?: "weighted" | "rank";
  filter?: { tags?: string[]; priority?: string; [key: string]: unknown };
}

export interface SelectedItem {
  context: Context;
  score: number;
  scores: Record<string, number>;
  tokens: number;
}

/** @schema SelectAnswer */
export interface SelectAnswer {
  selection_id: number;
  selector: string;
  query: string;
  items: SelectedItem[];
  total_tokens: number;
  truncated: boolean;
}

/** @schema SelectionRecord */
export interface SelectionRecord {
  id: number;
  at: string;
  agent_id: string;
  query: string;
  selector: string;
  params: Record<string, unknown>;
  results: Record<string, unknown>[];
}

export interface Message {
  role: "user" | "assistant";
  content: string;
}

/** @schema ProcessRequest */
export interface ProcessRequest {
  provider?: string;
  model?: string;
  system?: string;
  messages: Message[];
  context?: { query?: string; context_ids?: string[]; token_budget?: number; selector?: string };
  max_tokens?: number;
  temperature?: number;
  stream?: boolean;
  memory?: boolean;
}

/** @schema ProcessAnswer */
export interface ProcessAnswer {
  provider: string;
  model: string;
  output_text: string;
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number };
  context_ids: string[];
  selection_id?: number;
  memory?: { command: string; path?: string; is_error: boolean }[];
}

/** @schema MemoryCommand */
export interface MemoryCommand {
  command: "view" | "create" | "str_replace" | "insert" | "delete" | "rename";
  path?: string;
  view_range?: number[];
  file_text?: string;
  old_str?: string;
  new_str?: string;
  insert_line?: number;
  insert_text?: string;
  old_path?: string;
  new_path?: string;
}

/** @schema MemoryAnswer */
export interface MemoryAnswer {
  content: string;
  is_error: boolean;
}

/** @schema Redaction */
export interface Redaction {
  context_id: string;
  version: number;
  redacted: Record<string, unknown>;
}

/** @schema ErasureReport */
export interface ErasureReport {
  contexts: number;
  versions: number;
  vectors: number;
  selections: number;
  tokens: number;
  grants: number;
  agent_id: string;
}

/** @schema FeedEvent */
export interface FeedEvent {
  seq: number;
  action: "create" | "update" | "delete" | "purge" | "revert" | "redact" | "grant" | "revoke";
  context_id: string | null;
  agent_id: string | null;
  actor: string;
  version: number | null;
  at: string;
  grantee?: string;
  permission?: "read" | "write";
}

/** @schema WebhookCreate */
export interface WebhookCreate {
  url: string;
  secret: string;
  agent_id?: string | null;
  context_id?: string | null;
  action?: string | string[];
}

/** @schema Webhook */
export interface Webhook {
  id: string;
  owner: string;
  url: string;
  agent_id: string | null;
  context_id: string | null;
  action: string[];
  created_at: string;
  delivered_through: number;
  last_delivery?: WebhookDelivery | null;
}

/** @schema WebhookDelivery */
export interface WebhookDelivery {
  seq: number;
  attempt: number;
  at: string;
  status: number | null;
  delivered: boolean;
  error: string | null;
  duration_ms: number;
}

export type Stats = Record<string, unknown>;

/** GET /readyz: ready, and each PostgreSQL replica when the server reads from some. */
export interface Readiness {
  status: string;
  replicas?: { name: string; in_rotation: boolean; lag_seconds: number; reason?: string }[];
}
