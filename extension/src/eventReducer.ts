/**
 * Execution events → execution tree state (the design §7 tree shape).
 *
 * Pure: no I/O, no vscode. Events may arrive duplicated or out of order (a notification
 * racing a snapshot, a reconnect replaying), so every step is idempotent: an event seen
 * twice is ignored, statuses only move forward, and a late `node_started` never turns a
 * finished node back into a running one. The state object is owned by the reducer and
 * updated in place (logs can be long; copying them per line would be quadratic).
 */
import {
  EngineEvent,
  ErrorInfo,
  ExecutionChild,
  ExecutionStatus,
  ExecutionTree,
  LogEntry,
  LogLine,
  NodeStatus,
  NodeTree,
  StageTree,
  TERMINAL_EXECUTION,
  TERMINAL_NODE,
} from './protocol';

interface PlanNode {
  id: string;
  type?: string | null;
  name?: string | null;
}

interface PlanStage {
  id: string | null;
  loop: boolean;
  nodes: PlanNode[];
}

export interface ExecutionState {
  tree: ExecutionTree;
  /** True once the full tree is known (from a snapshot or from `execution_started`). */
  loaded: boolean;
  plan: PlanStage[] | undefined;
  seen: Set<string>;
}

export function emptyExecution(executionId: string, workflowId = '', file = ''): ExecutionState {
  return {
    tree: { id: executionId, workflowId, file, status: 'queued', children: [] },
    loaded: false,
    plan: undefined,
    seen: new Set(),
  };
}

export function statusRank(status: string): number {
  if (TERMINAL_EXECUTION.has(status) || TERMINAL_NODE.has(status)) {
    return 2;
  }
  return status === 'running' ? 1 : 0;
}

/**
 * Applies one event; returns false when it changed nothing (a duplicate). Log lines, the bulk
 * of a run's events, are deduplicated where they are inserted instead of in `seen`, so the
 * memory per execution grows with its nodes, not with its output.
 */
export function applyEvent(state: ExecutionState, event: EngineEvent): boolean {
  const handler = HANDLERS[event.event];
  if (handler === undefined) {
    return false;
  }
  if (event.event !== 'node_log') {
    const key = JSON.stringify(event);
    if (state.seen.has(key)) {
      return false;
    }
    state.seen.add(key);
  }
  return handler(state, event) !== false;
}

/** Returns false when the event turned out to change nothing. */
type Handler = (state: ExecutionState, event: EngineEvent) => void | boolean;

const HANDLERS: Record<string, Handler> = {
  execution_started: onExecutionStarted,
  execution_finished: onExecutionFinished,
  stage_started: onStageStarted,
  stage_finished: onStageFinished,
  node_started: onNodeStarted,
  node_log: onNodeLog,
  node_retry: onNodeRetry,
  node_finished: onNodeFinished,
};

function isoFrom(t: unknown): string | undefined {
  return typeof t === 'number' ? new Date(t * 1000).toISOString() : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function setExecutionStatus(tree: ExecutionTree, status: ExecutionStatus): void {
  if (statusRank(status) >= statusRank(tree.status)) {
    tree.status = status;
  }
}

function onExecutionStarted(state: ExecutionState, event: EngineEvent): void {
  const tree = state.tree;
  tree.workflowId = str(event.workflow_id) ?? tree.workflowId;
  setExecutionStatus(tree, 'running');
  tree.startedAt = tree.startedAt ?? isoFrom(event.t);
  state.plan = parsePlan(event.plan);
  state.loaded = true;
  for (const stage of state.plan) {
    for (const node of stage.nodes) {
      const seen = allNodes(tree).filter(([s, n]) => s === stage.id && n.id === node.id);
      const found = seen[0]?.[1] ?? ensureNode(tree, stage.id, node.id, null);
      for (const [, n] of seen.length > 0 ? seen : [[stage.id, found] as const]) {
        n.type = n.type ?? node.type ?? null;
        n.name = n.name ?? node.name ?? null;
      }
    }
  }
  sortByPlan(tree, state.plan);
}

function onExecutionFinished(state: ExecutionState, event: EngineEvent): void {
  const tree = state.tree;
  const status = str(event.status) as ExecutionStatus | undefined;
  if (status !== undefined) {
    setExecutionStatus(tree, status);
  }
  tree.outputs = event.outputs ?? tree.outputs;
  tree.error = (event.error as ErrorInfo | null | undefined) ?? tree.error ?? null;
  tree.finishedAt = tree.finishedAt ?? isoFrom(event.t);
  if (tree.durationMs == null && tree.startedAt && tree.finishedAt) {
    tree.durationMs = Date.parse(tree.finishedAt) - Date.parse(tree.startedAt);
  }
}

function onStageStarted(state: ExecutionState, event: EngineEvent): void {
  const iteration = num(event.iteration) ?? null;
  const stage = ensureStage(state.tree, str(event.stage) ?? '');
  const current = stage.iterations ?? 0;
  if ((iteration ?? 0) > current) {
    stage.iterations = iteration;
    stage.status = 'running';
  } else if ((iteration ?? 0) === current && statusRank(stage.status) < 1) {
    stage.status = 'running';
  }
  stage.startedAt = stage.startedAt ?? isoFrom(event.t);
  const planned = state.plan?.find((s) => s.id === stage.id);
  for (const node of planned?.nodes ?? []) {
    const found = ensureNode(state.tree, stage.id, node.id, planned?.loop ? iteration : null);
    found.type = found.type ?? node.type ?? null;
    found.name = found.name ?? node.name ?? null;
  }
}

function onStageFinished(state: ExecutionState, event: EngineEvent): void {
  const iteration = num(event.iteration) ?? null;
  const stage = ensureStage(state.tree, str(event.stage) ?? '');
  const status = str(event.status) ?? 'succeeded';
  if ((iteration ?? 0) >= (stage.iterations ?? 0)) {
    stage.iterations = iteration;
    stage.status = status;
    stage.finishedAt = isoFrom(event.t) ?? stage.finishedAt;
    if (stage.startedAt && stage.finishedAt) {
      stage.durationMs = Date.parse(stage.finishedAt) - Date.parse(stage.startedAt);
    }
  }
}

function nodeOf(state: ExecutionState, event: EngineEvent): NodeTree {
  const stage = str(event.stage) ?? null;
  const iteration = num(event.iteration) ?? null;
  return ensureNode(state.tree, stage, str(event.node) ?? '?', iteration);
}

function onNodeStarted(state: ExecutionState, event: EngineEvent): void {
  const node = nodeOf(state, event);
  const attempt = num(event.attempt) ?? 1;
  setExecutionStatus(state.tree, 'running');
  if (attempt < (node.attempts ?? 0)) {
    return;
  }
  node.attempts = attempt;
  node.input = event.input ?? node.input;
  node.startedAt = node.startedAt ?? isoFrom(event.t);
  if (statusRank(node.status) < 2) {
    node.status = 'running';
  }
}

function onNodeLog(state: ExecutionState, event: EngineEvent): boolean {
  const node = nodeOf(state, event);
  const entry: LogEntry = { stream: str(event.stream) ?? 'stdout', text: str(event.text) ?? '' };
  const t = num(event.t);
  if (t !== undefined) {
    entry.t = t;
  }
  const attempt = num(event.attempt);
  if (attempt !== undefined) {
    entry.attempt = attempt;
  }
  return insertLog((node.logs ??= []), entry);
}

function onNodeRetry(state: ExecutionState, event: EngineEvent): void {
  const node = nodeOf(state, event);
  const attempt = num(event.attempt) ?? 1;
  node.attempts = Math.max(node.attempts ?? 0, attempt);
}

function onNodeFinished(state: ExecutionState, event: EngineEvent): void {
  const node = nodeOf(state, event);
  const attempt = num(event.attempt) ?? node.attempts ?? 1;
  if (statusRank(node.status) === 2 && attempt < (node.attempts ?? 0)) {
    return;
  }
  node.attempts = Math.max(node.attempts ?? 0, attempt);
  node.status = (str(event.status) ?? 'succeeded') as NodeStatus;
  node.output = event.output ?? null;
  node.error = (event.error as ErrorInfo | null | undefined) ?? null;
  node.durationMs = num(event.duration_ms) ?? node.durationMs ?? null;
  if (event.given === true) {
    node.given = true;
  }
}

/** Epoch seconds of a log line: events carry numbers, stored trees ISO-8601 strings. */
export function logTime(line: LogLine): number | undefined {
  if (typeof line === 'string' || line.t == null) {
    return undefined;
  }
  const t = typeof line.t === 'number' ? line.t : Date.parse(line.t) / 1000;
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Keeps logs ordered by time; entries without a time go last, in arrival order. An entry
 * equal to one already there at the same time is a duplicate: returns false.
 */
function insertLog(logs: LogLine[], entry: LogEntry): boolean {
  const t = logTime(entry);
  let at = logs.length;
  if (t !== undefined) {
    const later = (line: LogLine): boolean => {
      const lt = logTime(line);
      return lt !== undefined && lt > t;
    };
    while (at > 0 && later(logs[at - 1])) {
      at -= 1;
    }
    for (let i = at - 1; i >= 0 && logTime(logs[i]) === t; i -= 1) {
      if (sameLog(logs[i], entry)) {
        return false;
      }
    }
  }
  logs.splice(at, 0, entry);
  return true;
}

function sameLog(line: LogLine, entry: LogEntry): boolean {
  return (
    typeof line !== 'string' &&
    line.text === entry.text &&
    (line.stream ?? 'stdout') === entry.stream &&
    (line.attempt ?? null) === (entry.attempt ?? null)
  );
}

export function ensureStage(tree: ExecutionTree, stageId: string): StageTree {
  const found = tree.children.find((c): c is StageTree => c.kind === 'stage' && c.id === stageId);
  if (found !== undefined) {
    return found;
  }
  const stage: StageTree = { kind: 'stage', id: stageId, status: 'pending', children: [] };
  tree.children.push(stage);
  return stage;
}

export function ensureNode(
  tree: ExecutionTree,
  stageId: string | null,
  nodeId: string,
  iteration: number | null,
): NodeTree {
  const list: ExecutionChild[] =
    stageId === null ? tree.children : ensureStage(tree, stageId).children;
  const found = list.find(
    (c): c is NodeTree =>
      c.kind === 'node' && c.id === nodeId && (c.iteration ?? null) === iteration,
  );
  if (found !== undefined) {
    return found;
  }
  // A loop node of the plan that has not run yet is a placeholder without an iteration:
  // its first iteration takes it over.
  const placeholder = list.find(
    (c): c is NodeTree =>
      c.kind === 'node' &&
      c.id === nodeId &&
      iteration !== null &&
      (c.iteration ?? null) === null &&
      c.status === 'pending' &&
      (c.attempts ?? 0) === 0,
  );
  if (placeholder !== undefined) {
    placeholder.iteration = iteration;
    return placeholder;
  }
  const node: NodeTree = {
    kind: 'node',
    id: nodeId,
    status: 'pending',
    attempts: 0,
    logs: [],
    iteration,
  };
  // Iterations in order (as the store lists them); arrival order within one.
  const after = list.findIndex((c) => c.kind === 'node' && (c.iteration ?? 0) > (iteration ?? 0));
  list.splice(after < 0 ? list.length : after, 0, node);
  return node;
}

function parsePlan(raw: unknown): PlanStage[] {
  const stages = (raw as { stages?: unknown } | null | undefined)?.stages;
  if (!Array.isArray(stages)) {
    return [];
  }
  return stages.map((s: Record<string, unknown>) => ({
    id: str(s.id) ?? null,
    loop: s.loop === true || (typeof s.loop === 'object' && s.loop !== null),
    nodes: Array.isArray(s.nodes)
      ? s.nodes.map((n: Record<string, unknown>) => ({
          id: str(n.id) ?? '?',
          type: str(n.type) ?? null,
          name: str(n.name) ?? null,
        }))
      : [],
  }));
}

/** Puts stages and nodes in plan order; anything the plan does not name stays at the end. */
function sortByPlan(tree: ExecutionTree, plan: PlanStage[]): void {
  const order = new Map<string, number>();
  plan.forEach((stage, i) => {
    if (stage.id !== null) {
      order.set(`stage:${stage.id}`, i);
    }
    stage.nodes.forEach((n, j) => order.set(`node:${n.id}`, i * 10_000 + j));
  });
  const rank = (c: ExecutionChild): number =>
    order.get(`${c.kind}:${c.id}`) ?? Number.MAX_SAFE_INTEGER;
  const byRank = <T extends ExecutionChild>(a: T, b: T): number => {
    const d = rank(a) - rank(b);
    return d !== 0 ? d : ((a as NodeTree).iteration ?? 0) - ((b as NodeTree).iteration ?? 0);
  };
  tree.children.sort(byRank);
  for (const child of tree.children) {
    if (child.kind === 'stage') {
      child.children.sort(byRank);
    }
  }
}

/**
 * Merges a full tree from the server (`flowrun/execution`) into what the events built.
 * The snapshot wins, except where the local state is further along (events the store had
 * not flushed when the snapshot was taken).
 */
export function applySnapshot(
  state: ExecutionState | undefined,
  snapshot: ExecutionTree,
): ExecutionState {
  const next: ExecutionState = {
    tree: structuredClone(snapshot),
    loaded: true,
    plan: state?.plan,
    seen: state?.seen ?? new Set(),
  };
  if (state === undefined || !state.loaded) {
    return next;
  }
  const local = state.tree;
  if (statusRank(local.status) > statusRank(next.tree.status)) {
    next.tree.status = local.status;
    next.tree.finishedAt = local.finishedAt ?? next.tree.finishedAt;
    next.tree.durationMs = local.durationMs ?? next.tree.durationMs;
    next.tree.outputs = local.outputs ?? next.tree.outputs;
    next.tree.error = local.error ?? next.tree.error;
  }
  for (const [stageId, node] of allNodes(local)) {
    const mine = ensureNode(next.tree, stageId, node.id, node.iteration ?? null);
    mergeNode(mine, node);
  }
  return next;
}

function mergeNode(target: NodeTree, local: NodeTree): void {
  if (statusRank(local.status) > statusRank(target.status)) {
    target.status = local.status;
    target.output = local.output ?? target.output;
    target.error = local.error ?? target.error;
    target.durationMs = local.durationMs ?? target.durationMs;
    target.attempts = Math.max(local.attempts ?? 0, target.attempts ?? 0);
  }
  target.type = target.type ?? local.type;
  target.name = target.name ?? local.name;
  target.input = target.input ?? local.input;
  if ((local.logs?.length ?? 0) > (target.logs?.length ?? 0)) {
    target.logs = [...(local.logs ?? [])];
  }
}

/** Every node of a tree with its stage id (null for workflows without stages). */
export function allNodes(tree: ExecutionTree): Array<[string | null, NodeTree]> {
  const out: Array<[string | null, NodeTree]> = [];
  for (const child of tree.children) {
    if (child.kind === 'node') {
      out.push([null, child]);
    } else {
      for (const node of child.children) {
        out.push([child.id, node]);
      }
    }
  }
  return out;
}

export function findNode(
  tree: ExecutionTree,
  nodeId: string,
  iteration: number | null = null,
  stageId?: string | null,
): NodeTree | undefined {
  for (const [stage, node] of allNodes(tree)) {
    if (node.id !== nodeId || (node.iteration ?? null) !== iteration) {
      continue;
    }
    if (stageId === undefined || stage === stageId) {
      return node;
    }
  }
  return undefined;
}
