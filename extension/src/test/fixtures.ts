/** Engine events and trees shaped as docs/internals.md describes them. */
import { EngineEvent, ExecutionTree } from '../protocol';

export const T0 = 1_700_000_000;

export function started(plan: unknown, t = T0): EngineEvent {
  return { event: 'execution_started', t, execution_id: 'e1', workflow_id: 'hello', plan };
}

export const FLAT_PLAN = {
  stages: [
    {
      id: null,
      loop: false,
      nodes: [
        { id: 'fetch', type: 'http', name: null },
        { id: 'clean', type: 'transform', name: 'Clean up' },
      ],
    },
  ],
};

export const STAGED_PLAN = {
  stages: [
    { id: 'plan', loop: false, nodes: [{ id: 'think', type: 'llm', name: null }] },
    { id: 'review', loop: true, nodes: [{ id: 'check', type: 'shell', name: null }] },
  ],
};

export function nodeStarted(
  node: string,
  t: number,
  extra: Record<string, unknown> = {},
): EngineEvent {
  return {
    event: 'node_started',
    t,
    node,
    attempt: 1,
    input: { n: node },
    stage: null,
    iteration: null,
    ...extra,
  };
}

export function nodeFinished(
  node: string,
  t: number,
  status = 'succeeded',
  extra: Record<string, unknown> = {},
): EngineEvent {
  return {
    event: 'node_finished',
    t,
    node,
    status,
    output: status === 'succeeded' ? { from: node } : null,
    error:
      status === 'failed'
        ? { type: 'ExecutionError', message: 'boom', traceback: 'Traceback…', suggestion: 'Fix it' }
        : null,
    attempt: 1,
    duration_ms: 12,
    stage: null,
    iteration: null,
    ...extra,
  };
}

export function log(node: string, t: number, text: string, stream = 'stdout'): EngineEvent {
  return { event: 'node_log', t, node, stream, text, stage: null, iteration: null };
}

export function finished(status: string, t: number, error: unknown = null): EngineEvent {
  return { event: 'execution_finished', t, status, outputs: { ok: status === 'succeeded' }, error };
}

/** A whole successful flat run, in order. */
export function flatRun(): EngineEvent[] {
  return [
    started(FLAT_PLAN, T0),
    nodeStarted('fetch', T0 + 0.1),
    log('fetch', T0 + 0.2, 'GET /x'),
    nodeFinished('fetch', T0 + 0.3),
    nodeStarted('clean', T0 + 0.4),
    nodeFinished('clean', T0 + 0.5),
    finished('succeeded', T0 + 1),
  ];
}

export function tree(overrides: Partial<ExecutionTree> = {}): ExecutionTree {
  return {
    id: 'e1',
    workflowId: 'hello',
    file: '/w/hello.workflow.yml',
    status: 'succeeded',
    startedAt: '2023-11-14T22:13:20.000Z',
    finishedAt: '2023-11-14T22:13:21.000Z',
    durationMs: 1000,
    trigger: { method: 'POST', path: '/x', headers: {}, query: {}, body: { a: 1 } },
    inputs: { style: 'short' },
    outputs: { ok: true },
    error: null,
    children: [
      {
        kind: 'node',
        id: 'fetch',
        type: 'http',
        status: 'succeeded',
        attempts: 1,
        startedAt: '2023-11-14T22:13:20.100Z',
        durationMs: 12,
        input: { url: 'http://x' },
        output: { status: 200 },
        error: null,
        logs: [{ stream: 'stdout', text: 'GET /x', t: T0 + 0.2 }],
        iteration: null,
      },
    ],
    ...overrides,
  };
}
