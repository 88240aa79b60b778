import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allNodes,
  applyEvent,
  applySnapshot,
  emptyExecution,
  ExecutionState,
  findNode,
} from '../eventReducer';
import { EngineEvent, NodeTree } from '../protocol';
import {
  FLAT_PLAN,
  finished,
  flatRun,
  log,
  nodeFinished,
  nodeStarted,
  STAGED_PLAN,
  started,
  T0,
  tree,
} from './fixtures';

function reduce(events: EngineEvent[]): ExecutionState {
  const state = emptyExecution('e1');
  for (const event of events) {
    applyEvent(state, event);
  }
  return state;
}

function shape(state: ExecutionState): unknown {
  return allNodes(state.tree).map(([stage, n]) => [stage, n.id, n.iteration, n.status]);
}

describe('applyEvent', () => {
  it('builds the tree of a run in order', () => {
    const state = reduce(flatRun());
    assert.equal(state.tree.status, 'succeeded');
    assert.equal(state.tree.workflowId, 'hello');
    assert.equal(state.loaded, true);
    assert.equal(state.tree.startedAt, new Date(T0 * 1000).toISOString());
    assert.equal(state.tree.durationMs, 1000);
    assert.deepEqual(state.tree.outputs, { ok: true });
    const fetch = findNode(state.tree, 'fetch')!;
    assert.equal(fetch.status, 'succeeded');
    assert.equal(fetch.type, 'http');
    assert.deepEqual(fetch.input, { n: 'fetch' });
    assert.deepEqual(fetch.output, { from: 'fetch' });
    assert.equal(fetch.durationMs, 12);
    assert.deepEqual(fetch.logs, [{ stream: 'stdout', text: 'GET /x', t: T0 + 0.2 }]);
    assert.equal(findNode(state.tree, 'clean')!.name, 'Clean up');
  });

  it('creates pending nodes from the plan, in plan order', () => {
    const state = reduce([started(FLAT_PLAN)]);
    assert.deepEqual(shape(state), [
      [null, 'fetch', null, 'pending'],
      [null, 'clean', null, 'pending'],
    ]);
    assert.equal(state.tree.status, 'running');
  });

  it('ignores duplicated events', () => {
    const events = flatRun();
    const once = reduce(events);
    const twice = reduce([...events, ...events]);
    assert.deepEqual(twice.tree, once.tree);
    const state = reduce(events);
    assert.equal(applyEvent(state, events[2]), false);
    assert.equal(findNode(state.tree, 'fetch')!.logs!.length, 1);
  });

  it('reaches the same tree when events arrive out of order', () => {
    const events = flatRun();
    const inOrder = reduce(events);
    const reversed = reduce([...events].reverse());
    assert.equal(reversed.tree.status, 'succeeded');
    assert.deepEqual(shape(reversed), shape(inOrder));
    assert.deepEqual(findNode(reversed.tree, 'fetch'), findNode(inOrder.tree, 'fetch'));
    assert.equal(reversed.tree.finishedAt, inOrder.tree.finishedAt);
  });

  it('never turns a finished node back to running', () => {
    const state = reduce([nodeFinished('fetch', T0 + 2), nodeStarted('fetch', T0 + 1)]);
    const fetch = findNode(state.tree, 'fetch')!;
    assert.equal(fetch.status, 'succeeded');
    assert.deepEqual(fetch.input, { n: 'fetch' });
    assert.equal(fetch.startedAt, new Date((T0 + 1) * 1000).toISOString());
  });

  it('keeps a finished execution finished when node events come late', () => {
    const state = reduce([
      finished('stopped', T0 + 5, { type: 'Stopped', message: 'stopped' }),
      nodeStarted('fetch', T0 + 1),
    ]);
    assert.equal(state.tree.status, 'stopped');
    assert.equal(state.tree.error?.type, 'Stopped');
  });

  it('orders logs by time whatever the arrival order', () => {
    const state = reduce([
      log('fetch', T0 + 3, 'c'),
      log('fetch', T0 + 1, 'a'),
      log('fetch', T0 + 2, 'b'),
    ]);
    assert.deepEqual(
      findNode(state.tree, 'fetch')!.logs!.map((l) => (l as { text: string }).text),
      ['a', 'b', 'c'],
    );
  });

  it('keeps arrival order for lines of the same time, and drops repeats', () => {
    const state = reduce([
      log('fetch', T0 + 1, 'a'),
      log('fetch', T0 + 1, 'b'),
      log('fetch', T0 + 1, 'a'),
      log('fetch', T0 + 1, 'a', 'stderr'),
      log('fetch', T0 + 0.5, 'first'),
    ]);
    const lines = findNode(state.tree, 'fetch')!.logs!.map((l) => {
      const e = l as { stream: string; text: string };
      return `${e.stream}:${e.text}`;
    });
    assert.deepEqual(lines, ['stdout:first', 'stdout:a', 'stdout:b', 'stderr:a']);
    assert.equal(state.seen.size, 0, 'log lines are not kept in the seen set');
  });

  it('puts logs without a time last', () => {
    const state = reduce([
      log('fetch', T0 + 3, 'a'),
      { event: 'node_log', node: 'fetch', text: 'b' },
    ]);
    const logs = findNode(state.tree, 'fetch')!.logs!;
    assert.deepEqual(logs[1], { stream: 'stdout', text: 'b' });
  });

  it('records failures with their error', () => {
    const state = reduce([
      started(FLAT_PLAN),
      nodeStarted('fetch', T0 + 1),
      nodeFinished('fetch', T0 + 2, 'failed'),
      nodeFinished('clean', T0 + 2, 'skipped'),
      finished('failed', T0 + 3, { type: 'ExecutionError', message: 'boom', node: 'fetch' }),
    ]);
    const fetch = findNode(state.tree, 'fetch')!;
    assert.equal(fetch.status, 'failed');
    assert.equal(fetch.error?.suggestion, 'Fix it');
    assert.equal(findNode(state.tree, 'clean')!.status, 'skipped');
    assert.equal(state.tree.status, 'failed');
    assert.equal(state.tree.error?.node, 'fetch');
  });

  it('counts retries and keeps the last attempt', () => {
    const state = reduce([
      nodeStarted('fetch', T0 + 1),
      {
        event: 'node_retry',
        t: T0 + 2,
        node: 'fetch',
        attempt: 2,
        delay: 1,
        error: { type: 'HTTPError', message: '503' },
        stage: null,
        iteration: null,
      },
      nodeStarted('fetch', T0 + 3, { attempt: 2, input: { second: true } }),
      nodeFinished('fetch', T0 + 4, 'succeeded', { attempt: 2 }),
      nodeStarted('fetch', T0 + 1.5, { attempt: 1, input: { first: true } }),
    ]);
    const fetch = findNode(state.tree, 'fetch')!;
    assert.equal(fetch.attempts, 2);
    assert.equal(fetch.status, 'succeeded');
    assert.deepEqual(fetch.input, { second: true });
  });

  it('keeps the later attempt when two finishes disagree', () => {
    const state = reduce([
      nodeFinished('fetch', T0 + 4, 'succeeded', { attempt: 2 }),
      nodeFinished('fetch', T0 + 2, 'failed', { attempt: 1 }),
    ]);
    assert.equal(findNode(state.tree, 'fetch')!.status, 'succeeded');
  });

  it('marks reused nodes as given', () => {
    const state = reduce([nodeFinished('fetch', T0, 'succeeded', { given: true })]);
    assert.equal(findNode(state.tree, 'fetch')!.given, true);
  });

  it('builds stages and loop iterations', () => {
    const at = (node: string, stage: string, iteration: number | null) => ({
      stage,
      iteration,
      node,
    });
    const state = reduce([
      started(STAGED_PLAN),
      { event: 'stage_started', t: T0 + 1, stage: 'plan', iteration: null },
      nodeStarted('think', T0 + 1, at('think', 'plan', null)),
      nodeFinished('think', T0 + 2, 'succeeded', at('think', 'plan', null)),
      { event: 'stage_finished', t: T0 + 2, stage: 'plan', iteration: null, status: 'succeeded' },
      { event: 'stage_started', t: T0 + 3, stage: 'review', iteration: 1 },
      nodeFinished('check', T0 + 4, 'failed', at('check', 'review', 1)),
      { event: 'stage_finished', t: T0 + 4, stage: 'review', iteration: 1, status: 'failed' },
      { event: 'stage_started', t: T0 + 5, stage: 'review', iteration: 2 },
      nodeStarted('check', T0 + 5, at('check', 'review', 2)),
    ]);
    assert.deepEqual(shape(state), [
      ['plan', 'think', null, 'succeeded'],
      ['review', 'check', 1, 'failed'],
      ['review', 'check', 2, 'running'],
    ]);
    const review = state.tree.children[1];
    assert.equal(review.kind, 'stage');
    assert.equal(review.status, 'running');
    assert.equal(review.kind === 'stage' && review.iterations, 2);
    // A late finish of iteration 1 does not overwrite iteration 2's status.
    applyEvent(state, {
      event: 'stage_finished',
      t: T0 + 4.5,
      stage: 'review',
      iteration: 1,
      status: 'failed',
      extra: 1,
    });
    assert.equal(state.tree.children[1].status, 'running');
  });

  it('creates a stage on first sight and sorts it by the plan later', () => {
    const state = reduce([
      nodeStarted('check', T0 + 3, { stage: 'review', iteration: 1 }),
      started(STAGED_PLAN),
    ]);
    assert.deepEqual(
      state.tree.children.map((c) => c.id),
      ['plan', 'review'],
    );
    assert.deepEqual(shape(state), [
      ['plan', 'think', null, 'pending'],
      ['review', 'check', 1, 'running'],
    ]);
  });

  it('ignores unknown events and tolerates a missing plan', () => {
    const state = emptyExecution('e1');
    assert.equal(applyEvent(state, { event: 'mystery', t: 1 }), false);
    applyEvent(state, { event: 'execution_started', t: 1 });
    assert.equal(state.tree.children.length, 0);
    assert.equal(state.loaded, true);
  });
});

describe('applySnapshot', () => {
  it('takes the snapshot when nothing is known', () => {
    const snap = tree();
    const state = applySnapshot(undefined, snap);
    assert.deepEqual(state.tree, snap);
    assert.notEqual(state.tree, snap);
    assert.equal(state.loaded, true);
  });

  it('keeps what events moved further than a stale snapshot', () => {
    const live = reduce(flatRun());
    const stale = tree({
      status: 'running',
      finishedAt: null,
      durationMs: null,
      children: [
        { kind: 'node', id: 'fetch', status: 'running', logs: [], iteration: null } as NodeTree,
      ],
    });
    const merged = applySnapshot(live, stale);
    assert.equal(merged.tree.status, 'succeeded');
    assert.equal(findNode(merged.tree, 'fetch')!.status, 'succeeded');
    assert.equal(findNode(merged.tree, 'fetch')!.logs!.length, 1);
    assert.equal(findNode(merged.tree, 'clean')!.status, 'succeeded');
    assert.equal(merged.seen, live.seen);
  });

  it('lets a newer snapshot win', () => {
    const live = reduce([started(FLAT_PLAN), nodeStarted('fetch', T0 + 1)]);
    const merged = applySnapshot(live, tree());
    assert.equal(merged.tree.status, 'succeeded');
    assert.deepEqual(findNode(merged.tree, 'fetch')!.output, { status: 200 });
    assert.equal(merged.tree.file, '/w/hello.workflow.yml');
  });
});
