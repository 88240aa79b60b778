/** Trees and tree patches shaped as the server sends them (history/tree.py, tree_patches.py). */
import { ErrorInfo, ExecutionTree, LogEntry, NodeTree, StageTree, TreePatch } from '../protocol';

export const T0 = 1_700_000_000;

/** ISO-8601 of T0 + `seconds`, as the server writes times. */
export function at(seconds: number): string {
  return new Date((T0 + seconds) * 1000).toISOString();
}

export const BOOM: ErrorInfo = {
  type: 'ExecutionError',
  message: 'boom',
  traceback: 'Traceback…',
  suggestion: 'Fix it',
};

export function node(id: string, overrides: Partial<NodeTree> = {}): NodeTree {
  return {
    kind: 'node',
    id,
    type: 'shell',
    name: null,
    stage: null,
    iteration: null,
    status: 'pending',
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    input: null,
    output: null,
    error: null,
    retries: [],
    given: false,
    ...overrides,
  };
}

export function ran(id: string, status: NodeTree['status'], overrides: Partial<NodeTree> = {}) {
  return node(id, {
    status,
    attempts: 1,
    startedAt: at(1),
    durationMs: 12,
    input: { n: id },
    output: status === 'succeeded' ? { from: id } : null,
    error: status === 'failed' ? BOOM : null,
    ...overrides,
  });
}

export function stage(id: string, children: NodeTree[], overrides: Partial<StageTree> = {}) {
  const staged = children.map((n) => ({ ...n, stage: id }));
  return { kind: 'stage', id, status: 'running', children: staged, ...overrides } as StageTree;
}

export function line(text: string, stream: LogEntry['stream'] = 'stdout'): LogEntry {
  return { t: at(0.2), stream, text, attempt: 1 };
}

export function logs(nodeId: string, text: string, stream: LogEntry['stream'] = 'stdout') {
  return { logs: { stage: null, node: nodeId, iteration: null, lines: [line(text, stream)] } };
}

export function tree(overrides: Partial<ExecutionTree> = {}): ExecutionTree {
  return {
    id: 'e1',
    workflowId: 'hello',
    file: '/w/hello.workflow.yml',
    status: 'succeeded',
    startedAt: at(0),
    finishedAt: at(1),
    durationMs: 1000,
    trigger: { method: 'POST', path: '/x', headers: {}, query: {}, body: { a: 1 } },
    inputs: { style: 'short' },
    outputs: { ok: true },
    error: null,
    children: [
      ran('fetch', 'succeeded', {
        type: 'http',
        input: { url: 'http://x' },
        output: { status: 200 },
        logs: [line('GET /x')],
      }),
    ],
    ...overrides,
  };
}

/** An execution patch: the tree without logs. */
export function started(overrides: Partial<ExecutionTree> = {}): TreePatch {
  const children = [node('fetch', { type: 'http' }), node('clean', { type: 'transform' })];
  return { execution: tree({ status: 'running', finishedAt: null, children, ...overrides }) };
}

/** The patches of a whole successful flat run, in order. */
export function flatRun(): TreePatch[] {
  const done = [ran('fetch', 'succeeded'), ran('clean', 'succeeded')];
  return [
    started(),
    { node: ran('fetch', 'running', { durationMs: null }) },
    logs('fetch', 'GET /x'),
    { node: done[0] },
    { node: ran('clean', 'running', { durationMs: null }) },
    { node: done[1] },
    { execution: tree({ children: done }) },
  ];
}
