/**
 * Method names and payload types of the Flowrun language server (design §7). Mirrors
 * server/flowrun/lsp/protocol.py (methods, params; the debugger's in debug/protocol.ts),
 * flowrun/history/models.py (summary, tree,
 * error), flowrun/status.py (statuses), flowrun/history/tree_patches.py (patches),
 * flowrun_engine/events.py (events) and the design §5 error object of flowrun/runs/errors.py
 * (refused requests); pure: it imports only the debugger's types (debug/protocol.ts).
 */

import type { NodeBreakpoint } from './debug/protocol';

/** The files the server and the client treat as workflows. */
export const WORKFLOW_GLOB = '**/*.workflow.{yml,yaml}';
export const WORKFLOW_FILE = /\.workflow\.ya?ml$/;
/** The documents the language client and the debugger's hovers serve. */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', pattern: WORKFLOW_GLOB },
  { scheme: 'untitled', language: 'yaml' },
];

export const Requests = {
  execute: 'flowrun/execute',
  stop: 'flowrun/stop',
  pause: 'flowrun/pause',
  resume: 'flowrun/resume',
  debugState: 'flowrun/debugState',
  evaluate: 'flowrun/evaluate',
  breakpointLocations: 'flowrun/breakpointLocations',
  setBreakpoints: 'flowrun/setBreakpoints',
  history: 'flowrun/history',
  execution: 'flowrun/execution',
  pythonEnvironment: 'flowrun/pythonEnvironment',
  installDependencies: 'flowrun/installDependencies',
  listTests: 'flowrun/listTests',
  runTests: 'flowrun/runTests',
  cancelTests: 'flowrun/cancelTests',
  pin: 'flowrun/pin',
  unpin: 'flowrun/unpin',
} as const;

export const Notifications = {
  executionEvent: 'flowrun/executionEvent',
  executionsChanged: 'flowrun/executionsChanged',
  testEvent: 'flowrun/testEvent',
} as const;

/** Commands the server declares through workspace/executeCommand (registered by the client library). */
export const ServerCommands = {
  runTest: 'flowrun.runTest',
  stop: 'flowrun.stop',
  runFromNode: 'flowrun.runFromNode',
  installDependencies: 'flowrun.installDependencies',
  addAsTest: 'flowrun.addAsTest',
  pinOutput: 'flowrun.pinOutput',
  unpin: 'flowrun.unpin',
  repin: 'flowrun.repin',
} as const;

/** `flowrun.pinOutput` / `flowrun.repin`: the pin file written, and whether its hash is not
 * the node's current one. */
export interface PinResult {
  path: string;
  stale: boolean;
}

/** `flowrun.unpin`: false when the node had no pin file. */
export interface UnpinResult {
  removed: boolean;
}

/** flowrun/status.py ExecutionStatus; the terminal ones are those that are not ACTIVE. */
export const EXECUTION_STATUSES = [
  'queued',
  'running',
  'paused',
  'succeeded',
  'failed',
  'stopped',
  'timed_out',
  'interrupted',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const TERMINAL_EXECUTION: ReadonlySet<string> = new Set(EXECUTION_STATUSES.slice(3));

/** flowrun/status.py NodeStatus: of nodes and stages. */
export type NodeStatus =
  'pending' | 'running' | 'paused' | 'succeeded' | 'failed' | 'skipped' | 'stopped';

/** design §9: where an execution came from (`flowrun serve` records `production`). */
export const EXECUTION_MODES = ['test', 'production', 'batch'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

/** The design §5 error object: of a node, an execution, or a refused request (`data`). */
export interface ErrorInfo {
  type: string;
  message: string;
  traceback?: string | null;
  suggestion?: string | null;
  node?: string | null;
  /** A failed run: every failure, the first one being the error itself. */
  errors?: ErrorInfo[];
  /** A run refused for inputs the request lacks (the editor asks for them). */
  missingInputs?: MissingInput[];
  /** A DependencyError: the packages and the pip command that installs them. */
  missing?: string[];
  command?: string[];
}

export interface MissingInput {
  name: string;
  type?: string;
  description?: string;
}

/** One line a node wrote (`info`: a note of flowrun's, such as a retry or a cut). */
export interface LogEntry {
  stream: 'stdout' | 'stderr' | 'info' | null;
  text: string | null;
  /** ISO-8601 */
  t: string | null;
  attempt: number | null;
}

/** What a node or a run cost (design §9): a run's are sums over its nodes; null when it
 *  called no LLM. */
export interface CostFields {
  llmCalls?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  costUsd?: number | null;
}

/** history/models.py `NodeElement` (a field added there is a stored column, mirrored here). */
export interface NodeTree extends CostFields {
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
  logs?: LogEntry[];
  stage?: string | null;
  iteration?: number | null;
  finishedAt?: string | null;
  retries?: Array<{ attempt: number; error: ErrorInfo | null }>;
  given?: boolean;
  /** Its output came from the workflow file (`pin:`), it did not run. */
  pinned?: boolean;
  /** A workflow test's mock stood in for it: it did not run. */
  mocked?: boolean;
  /** Its output came from the cache (`cache:`), at no cost. */
  cached?: boolean;
  /** What else it measured: provider, model, httpStatus, httpBytes, costUnknown. */
  metrics?: Record<string, unknown> | null;
  /** Its definition hash (design §9 `hash`): changes when the node or an upstream one does. */
  configHash?: string | null;
}

export interface StageTree {
  kind: 'stage';
  id: string;
  status: NodeStatus;
  loop?: boolean;
  /** How many iterations of a loop stage ran (null outside loops). */
  iterations?: number | null;
  /** The stage's own error (a loop that never met `until`). */
  error?: ErrorInfo | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  children: NodeTree[];
}

export type ExecutionChild = StageTree | NodeTree;

/** What a summary and a tree share (history/models.py `ExecutionHead`: a field added there
 *  is a stored column, mirrored here). */
interface ExecutionHeader extends CostFields {
  id: string;
  workflowId: string;
  file: string;
  status: ExecutionStatus;
  /** Absent in trees the client made before the server said (a run it just started). */
  mode?: ExecutionMode;
  /** The workflow test it ran (`flowrun test`, Test Explorer), else null. */
  testName?: string | null;
  /** The machine, or the queue worker's name, that ran it. */
  worker?: string | null;
  /** Queue mode: the delivery attempt (2 and more: an earlier worker died). */
  attempt?: number;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  /** The OpenTelemetry trace it was exported as. */
  traceId?: string | null;
  /** A re-run or a resume: the execution its given outputs came from. */
  parentExecutionId?: string | null;
  /** The node a re-run or resume started from (null: a whole resume). */
  fromNode?: string | null;
}

export interface ExecutionTree extends ExecutionHeader {
  trigger?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  error?: ErrorInfo | null;
  children: ExecutionChild[];
}

/** One line of `flowrun/history`. */
export interface ExecutionSummary extends ExecutionHeader {
  /** `POST /path` for a request, else `manual`. */
  trigger?: string | null;
  error?: { type: string | null; message: string | null } | null;
  /** On the file's last successful execution only: the nodes whose definition changed since
   * (the file as the server validated it last). */
  changedNodes?: string[];
}

export interface ExecuteParams {
  uri: string;
  inputs?: Record<string, unknown>;
  trigger?: unknown;
  fromExecution?: string;
  fromNode?: string;
  /** Pause before these nodes (the execution ends `paused`; `flowrun/resume` goes on). */
  breakBefore?: string[];
  /** Pause on a node's failure instead of failing the run. */
  pauseOnFailure?: boolean;
  /** "Re-run changed": reuse the unchanged nodes' outputs of the file's last success. */
  changed?: boolean;
  /** The debugger's breakpoints: conditional ones and logpoints too. */
  breakpoints?: NodeBreakpoint[];
  /** Pause again before the next node(s) after the ready ones ran (Step Over). */
  step?: boolean;
}

export interface ExecuteResult {
  executionId: string;
  /** A `changed` run: the nodes given their recorded outputs, the ones that run (node → why),
   * and why nothing was reused (no successful execution yet, other inputs); null otherwise. */
  reused?: string[] | null;
  run?: Record<string, string> | null;
  note?: string | null;
}

export interface StopResult {
  stopped: boolean;
}

/** `flowrun/pause`: false when the execution is not running in this server. */
export interface PauseResult {
  paused: boolean;
}

/** `flowrun/resume` of a paused execution: a new execution, its parent the paused one. */
export interface ResumeParams {
  executionId: string;
  /** Run this node and everything after it again, even where they completed. */
  fromNode?: string;
  breakBefore?: string[];
  pauseOnFailure?: boolean;
  breakpoints?: NodeBreakpoint[];
  step?: boolean;
}

export interface ResumeResult {
  executionId: string;
  /** Completed nodes whose definition changed since the pause (their recorded outputs used). */
  changed: string[];
}

export interface HistoryParams {
  uri?: string;
  workflowId?: string;
  status?: ExecutionStatus;
  mode?: ExecutionMode;
  limit?: number;
  before?: string;
}

export interface HistoryResult {
  executions: ExecutionSummary[];
}

/** One engine event (design §5, docs/internals.md "Events"): the client renders `patch`. */
export interface EngineEvent {
  event: string;
  [key: string]: unknown;
}

/** Log lines appended to one node (a `node_log` event). */
export interface LogAppend {
  stage: string | null;
  node: string;
  iteration: number | null;
  lines: LogEntry[];
}

/**
 * The part of the tree an event changed: the whole execution, one stage (with its nodes)
 * or one node, all without `logs`, or log lines to append. Replace by key.
 */
export interface TreePatch {
  execution?: ExecutionTree;
  stage?: StageTree;
  node?: NodeTree;
  logs?: LogAppend;
}

export interface ExecutionEventParams {
  executionId: string;
  event: EngineEvent;
  patch?: TreePatch | null;
}

// --- workflow tests (lsp/protocol.py: ListTestsResult, RunTestsParams, CancelTestsParams,
// TestEvent, AddedTest) --

export interface TestRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface TestInfo {
  /** `path::name` */
  id: string;
  name: string;
  /** its `- name:` line */
  range: TestRange;
}

export interface TestFile {
  uri: string;
  tests: TestInfo[];
  /** Why its tests cannot run (the file's first error), or null. */
  problem: string | null;
}

export interface ListTestsResult {
  files: TestFile[];
}

export interface TestSelection {
  uri: string;
  /** One test; without it, every test of the file. */
  name?: string;
}

export interface RunTestsParams {
  /** Default: every test of the workspace. */
  items?: TestSelection[];
  runId?: string;
}

export interface RunTestsResult {
  runId: string;
  tests: string[];
}

export interface CancelTestsParams {
  runId: string;
}

export interface CancelTestsResult {
  /** false: no such run going on. */
  cancelled: boolean;
}

export interface TestMessageInfo {
  message: string;
  expected: string | null;
  actual: string | null;
  uri: string;
  range: TestRange;
}

export interface TestEventParams {
  runId: string;
  state: 'started' | 'passed' | 'failed' | 'errored' | 'finished';
  id?: string | null;
  uri?: string | null;
  name?: string | null;
  executionId?: string | null;
  durationMs?: number | null;
  messages?: TestMessageInfo[];
}

export interface AddedTest {
  uri: string;
  name: string;
  line: number;
  applied: boolean;
}
