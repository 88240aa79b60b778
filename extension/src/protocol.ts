/**
 * Method names and payload types of the Flowrun language server (design §7).
 * Mirrors server/flowrun/lsp/protocol.py; pure, imports nothing.
 */

export const Requests = {
  execute: 'flowrun/execute',
  stop: 'flowrun/stop',
  history: 'flowrun/history',
  execution: 'flowrun/execution',
  pythonEnvironment: 'flowrun/pythonEnvironment',
  installDependencies: 'flowrun/installDependencies',
} as const;

export const Notifications = {
  executionEvent: 'flowrun/executionEvent',
  executionsChanged: 'flowrun/executionsChanged',
} as const;

/** Commands the server declares through workspace/executeCommand (registered by the client library). */
export const ServerCommands = {
  runTest: 'flowrun.runTest',
  stop: 'flowrun.stop',
  runFromNode: 'flowrun.runFromNode',
  installDependencies: 'flowrun.installDependencies',
} as const;

export type ExecutionStatus =
  'queued' | 'running' | 'succeeded' | 'failed' | 'stopped' | 'timed_out' | 'interrupted';

export type NodeStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'stopped';

export type Status = ExecutionStatus | NodeStatus;

export interface ErrorInfo {
  type: string;
  message: string;
  traceback?: string | null;
  suggestion?: string | null;
  node?: string | null;
}

export interface LogEntry {
  stream?: string | null;
  text: string;
  /** Epoch seconds in events, ISO-8601 in trees from the store. */
  t?: number | string | null;
  attempt?: number | null;
}

/** A log line as the server sends it: a structured entry or plain text. */
export type LogLine = LogEntry | string;

export interface NodeTree {
  kind: 'node';
  id: string;
  type?: string | null;
  name?: string | null;
  status: NodeStatus;
  attempts?: number;
  startedAt?: string | null;
  durationMs?: number | null;
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo | null;
  logs?: LogLine[];
  stage?: string | null;
  iteration?: number | null;
  finishedAt?: string | null;
  retries?: Array<{ attempt: number; error: ErrorInfo | null }>;
  given?: boolean;
}

export interface StageTree {
  kind: 'stage';
  id: string;
  status: string;
  loop?: boolean;
  /** How many iterations of a loop stage ran (null outside loops). */
  iterations?: number | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  children: NodeTree[];
}

export type ExecutionChild = StageTree | NodeTree;

export interface ExecutionTree {
  id: string;
  workflowId: string;
  file: string;
  status: ExecutionStatus;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  trigger?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  error?: ErrorInfo | null;
  children: ExecutionChild[];
}

export interface ExecutionSummary {
  id: string;
  workflowId: string;
  file: string;
  status: ExecutionStatus;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  trigger?: string | null;
  error?: { type: string; message: string } | null;
}

export interface ExecuteParams {
  uri: string;
  inputs?: Record<string, unknown>;
  trigger?: unknown;
  fromExecution?: string;
  fromNode?: string;
}

export interface ExecuteResult {
  executionId: string;
}

export interface StopParams {
  executionId: string;
}

export interface StopResult {
  stopped: boolean;
}

export interface HistoryParams {
  uri?: string;
  workflowId?: string;
  status?: string;
  limit?: number;
  before?: string;
}

export interface HistoryResult {
  executions: ExecutionSummary[];
}

export interface ExecutionParams {
  executionId: string;
}

export interface PythonEnvironmentResult {
  path: string;
  version: string | null;
  ok: boolean;
  problems: string[];
  missing: string[];
}

/** One engine event (design §5 and docs/internals.md "Events"). */
export interface EngineEvent {
  event: string;
  t?: number;
  [key: string]: unknown;
}

export interface ExecutionEventParams {
  executionId: string;
  event: EngineEvent;
}

export const TERMINAL_EXECUTION: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'stopped',
  'timed_out',
  'interrupted',
]);

export const TERMINAL_NODE: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'stopped',
]);
