import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionModel } from '../executionModel';
import {
  describe as describeItem,
  executionContextValue,
  formatDuration,
  formatRelative,
  ItemSpec,
  nodeContextValue,
  preview,
  statusToIcon,
} from '../treeItems';
import { EXECUTION_STATUSES } from '../protocol';
import { childrenOf, elementKey, parentOf, TreeElement } from '../treeModel';
import { BOOM, line, node, ran, stage, started, tree } from './fixtures';

const NOW = Date.parse('2023-11-14T22:16:20.000Z'); // three minutes after the fixture's start

function item(model: ExecutionModel, e: TreeElement): ItemSpec {
  const spec = describeItem(model, e, NOW);
  assert.ok(spec, `no item for ${elementKey(e)}`);
  return spec;
}

function nodeElement(nodeId: string): TreeElement & { kind: 'node' } {
  return { kind: 'node', executionId: 'e1', stageId: null, nodeId, iteration: null };
}

function labels(model: ExecutionModel, e?: TreeElement): string[] {
  return childrenOf(model, e).map((c) => item(model, c).label);
}

function failedRun(): ExecutionModel {
  const model = new ExecutionModel();
  const fetch = ran('fetch', 'failed', { logs: [line('oops', 'stderr')] });
  const error = { ...BOOM, node: 'fetch' };
  model.setTree(
    tree({ status: 'failed', error, children: [fetch, node('clean', { status: 'skipped' })] }),
  );
  return model;
}

describe('tree levels', () => {
  it('goes workflow → execution → node → details', () => {
    const model = new ExecutionModel();
    model.setTree(tree());
    assert.deepEqual(labels(model), ['hello']);
    const [workflow] = childrenOf(model);
    assert.deepEqual(labels(model, workflow), ['e1']);
    const [execution] = childrenOf(model, workflow);
    assert.deepEqual(labels(model, execution), ['fetch']);
    const [node] = childrenOf(model, execution);
    assert.deepEqual(labels(model, node), ['Input', 'Output', 'Logs']);
    for (const detail of childrenOf(model, node)) {
      assert.deepEqual(childrenOf(model, detail), []);
      assert.deepEqual(parentOf(model, detail), node);
    }
    assert.deepEqual(parentOf(model, node), execution);
    assert.deepEqual(parentOf(model, execution), workflow);
    assert.equal(parentOf(model, workflow), undefined);
  });

  it('shows stages with loop iterations', () => {
    const model = new ExecutionModel();
    const checks = [
      ran('check', 'failed', { iteration: 1 }),
      ran('check', 'running', { iteration: 2 }),
    ];
    const review = stage('review', checks, { loop: true, iterations: 2 });
    model.applyPatch('e1', started({ children: [stage('plan', [node('think')]), review] }));
    const [execution] = childrenOf(model, { kind: 'workflow', workflowId: 'hello' });
    assert.deepEqual(labels(model, execution), ['plan', 'review']);
    const reviewElement = childrenOf(model, execution)[1];
    assert.deepEqual(labels(model, reviewElement), ['check #1', 'check #2']);
    assert.equal(item(model, reviewElement).description, 'running · 2 iterations');
    const second = childrenOf(model, reviewElement)[1];
    assert.deepEqual(parentOf(model, second), reviewElement);
    assert.deepEqual(parentOf(model, reviewElement), execution);
  });

  it('returns nothing for unknown executions, stages and nodes', () => {
    const model = new ExecutionModel();
    assert.deepEqual(childrenOf(model, { kind: 'execution', executionId: 'x' }), []);
    assert.deepEqual(childrenOf(model, { kind: 'stage', executionId: 'x', stageId: 's' }), []);
    const node = {
      kind: 'node',
      executionId: 'x',
      stageId: null,
      nodeId: 'n',
      iteration: null,
    } as const;
    assert.deepEqual(childrenOf(model, node), []);
    assert.equal(describeItem(model, node, NOW), undefined);
    assert.equal(describeItem(model, { ...node, kind: 'detail', part: 'input' }, NOW), undefined);
    assert.equal(describeItem(model, { kind: 'execution', executionId: 'x' }, NOW), undefined);
    assert.equal(
      describeItem(model, { kind: 'stage', executionId: 'x', stageId: 's' }, NOW),
      undefined,
    );
    assert.deepEqual(parentOf(model, { kind: 'execution', executionId: 'x' }), {
      kind: 'workflow',
      workflowId: '(unknown workflow)',
    });
  });
});

describe('tree items', () => {
  it('describes a workflow and a finished execution', () => {
    const model = new ExecutionModel();
    model.setTree(tree());
    const workflow = item(model, { kind: 'workflow', workflowId: 'hello' });
    assert.equal(workflow.description, 'hello.workflow.yml');
    assert.equal(workflow.contextValue, 'flowrun.workflow');
    assert.equal(workflow.tooltip, '/w/hello.workflow.yml · 1 execution');
    const execution = item(model, { kind: 'execution', executionId: 'e1' });
    assert.equal(execution.label, 'e1');
    assert.equal(execution.description, 'succeeded · 1.0 s · 3 min ago');
    assert.deepEqual(execution.icon, { id: 'pass', color: 'testing.iconPassed' });
    assert.equal(execution.contextValue, 'flowrun.execution succeeded rerunnable');
    assert.equal(execution.collapsible, 'expanded');
    assert.match(execution.tooltip!, /Status: succeeded\nStarted: 2023-11-14T22:13:20.000Z/);
  });

  it('names the mode, the worker once there are several, and a delivery attempt', () => {
    const model = new ExecutionModel();
    const queued = { mode: 'batch' as const, worker: 'w1@host', attempt: 1 };
    model.setTree(tree({ ...queued }));
    const alone = item(model, { kind: 'execution', executionId: 'e1' });
    assert.equal(alone.description, 'batch · succeeded · 1.0 s · 3 min ago');
    assert.match(alone.tooltip!, /Mode: batch\nWorker: w1@host\n/);
    model.setTree(tree({ ...queued, id: 'e2', worker: 'w2@host', attempt: 2 }));
    const again = item(model, { kind: 'execution', executionId: 'e2' });
    assert.equal(again.description, 'batch · w2@host · succeeded · attempt 2 · 1.0 s · 3 min ago');
    assert.match(again.tooltip!, /Worker: w2@host \(attempt 2\)/);
    const first = item(model, { kind: 'execution', executionId: 'e1' });
    assert.equal(first.description, 'batch · w1@host · succeeded · 1.0 s · 3 min ago');
  });

  it('collapses older executions and expands running ones', () => {
    const model = new ExecutionModel();
    model.setTree(tree({ id: 'old', startedAt: '2023-11-14T20:00:00.000Z' }));
    model.setTree(tree({ id: 'new' }));
    assert.equal(item(model, { kind: 'execution', executionId: 'old' }).collapsible, 'collapsed');
    // An older execution that is still running is expanded.
    model.setTree(tree({ id: 'older', status: 'running', startedAt: '2023-11-14T19:00:00.000Z' }));
    const running = item(model, { kind: 'execution', executionId: 'older' });
    assert.equal(running.collapsible, 'expanded');
    assert.equal(running.contextValue, 'flowrun.execution running stoppable');
    assert.deepEqual(running.icon, { id: 'loading~spin' });
  });

  it('shows a failed node with its error expanded, and details that open documents', () => {
    const model = failedRun();
    const node = nodeElement('fetch');
    const spec = item(model, node);
    assert.equal(spec.label, 'fetch');
    assert.equal(spec.description, 'failed · 12 ms');
    assert.equal(spec.collapsible, 'expanded');
    assert.equal(spec.contextValue, 'flowrun.node failed rerunnableFrom');
    assert.deepEqual(spec.command, {
      command: 'flowrun.revealNode',
      title: 'Reveal Node Definition',
      arguments: [{ executionId: 'e1', nodeId: 'fetch' }],
    });
    assert.deepEqual(labels(model, node), ['Input', 'Error', 'Logs']);
    const [input, error, logs] = childrenOf(model, node).map((c) => item(model, c));
    assert.equal(input.openUri, 'flowrun:/e1/fetch.input.json');
    assert.equal(input.description, '{"n":"fetch"}');
    assert.equal(error.description, 'ExecutionError: boom');
    assert.equal(error.tooltip, 'ExecutionError: boom\n\nSuggestion: Fix it\n\nTraceback…');
    assert.equal(error.openUri, 'flowrun:/e1/fetch.error.txt');
    assert.equal(logs.description, '1 line');
    assert.equal(logs.tooltip, 'oops');
    const execution = item(model, { kind: 'execution', executionId: 'e1' });
    assert.equal(execution.contextValue, 'flowrun.execution failed rerunnable hasFailedNode');
    assert.match(execution.tooltip!, /Error: ExecutionError: boom/);
    const skipped = item(model, { ...node, nodeId: 'clean' });
    assert.equal(skipped.collapsible, 'none');
    assert.deepEqual(skipped.icon, { id: 'debug-step-over', color: 'disabledForeground' });
  });

  it('shows attempts, reuse and a running node that cannot be re-run yet', () => {
    const model = new ExecutionModel();
    model.applyPatch('e1', started());
    model.applyPatch('e1', { node: ran('fetch', 'running', { attempts: 3, durationMs: null }) });
    model.applyPatch('e1', { node: ran('clean', 'succeeded', { given: true }) });
    const fetch = nodeElement('fetch');
    const spec = item(model, fetch);
    assert.equal(spec.description, 'running · attempt 3');
    assert.equal(spec.contextValue, 'flowrun.node running');
    assert.equal(
      item(model, { ...fetch, nodeId: 'clean' }).description,
      'succeeded · 12 ms · reused',
    );
    model.applyPatch('e1', { node: ran('clean', 'succeeded', { pinned: true }) });
    const pinned = item(model, { ...fetch, nodeId: 'clean' }).description;
    assert.equal(pinned, 'succeeded · 12 ms · 📌 pinned');
  });

  it('marks the nodes changed since the last success, from the history, across a fetch', () => {
    const model = new ExecutionModel();
    const summary = { ...tree(), trigger: 'manual', error: null };
    model.setHistory([{ ...summary, changedNodes: ['clean'] }]);
    model.setTree(tree({ children: [ran('fetch', 'succeeded'), ran('clean', 'succeeded')] }));
    const fetch = nodeElement('fetch');
    const clean = item(model, { ...fetch, nodeId: 'clean' });
    assert.equal(clean.description, 'succeeded · 12 ms · ✎ changed');
    assert.match(clean.tooltip!, /definition changed since this execution/);
    assert.equal(item(model, fetch).description, 'succeeded · 12 ms');
    model.setHistory([{ ...summary, changedNodes: [] }]); // the edit was undone
    assert.equal(item(model, { ...fetch, nodeId: 'clean' }).description, 'succeeded · 12 ms');
    model.setHistory([summary]); // a newer success took the marker over
    assert.equal(model.get('e1')!.changedNodes, undefined);
    assert.equal(model.get('e1')!.loaded, true);
  });

  it('puts stage and iteration in detail URIs', () => {
    const model = new ExecutionModel();
    const review = stage('review', [ran('check', 'succeeded', { iteration: 1 })], { loop: true });
    model.applyPatch('e1', started({ children: [review] }));
    const spec = item(model, {
      kind: 'detail',
      executionId: 'e1',
      stageId: 'review',
      nodeId: 'check',
      iteration: 1,
      part: 'output',
    });
    assert.equal(spec.openUri, 'flowrun:/e1/check.output.json?iteration=1&stage=review');
    assert.equal(spec.contextValue, 'flowrun.detail output');
  });
});

describe('presentation helpers', () => {
  it('maps every status to an icon in one place', () => {
    const icons = Object.fromEntries(
      [...EXECUTION_STATUSES, 'pending', 'skipped', 'weird'].map((s) => [s, statusToIcon(s).id]),
    );
    assert.deepEqual(icons, {
      queued: 'clock',
      running: 'loading~spin',
      paused: 'debug-pause',
      succeeded: 'pass',
      failed: 'error',
      stopped: 'circle-slash',
      timed_out: 'watch',
      interrupted: 'debug-disconnect',
      pending: 'circle-outline',
      skipped: 'debug-step-over',
      weird: 'question',
    });
  });

  it('builds context values with capability flags', () => {
    assert.equal(executionContextValue('queued'), 'flowrun.execution queued stoppable');
    assert.equal(
      executionContextValue('stopped'),
      'flowrun.execution stopped rerunnable hasFailedNode',
    );
    assert.equal(executionContextValue('paused'), 'flowrun.execution paused resumable');
    assert.equal(nodeContextValue('succeeded', 'paused'), 'flowrun.node succeeded resumableFrom');
    assert.equal(nodeContextValue('succeeded', 'running'), 'flowrun.node succeeded');
    assert.equal(
      nodeContextValue('succeeded', 'succeeded'),
      'flowrun.node succeeded rerunnableFrom',
    );
    // Unpin on a pinned node (a pin file's or a `pin:`'s)
    assert.equal(
      nodeContextValue('succeeded', 'succeeded', true),
      'flowrun.node succeeded rerunnableFrom pinned',
    );
  });

  it('formats durations and relative times', () => {
    assert.deepEqual(
      [null, -1, 0, 999.6, 1000, 59_949, 61_000, 3_600_000 + 120_000].map(formatDuration),
      ['', '', '0 ms', '1000 ms', '1.0 s', '59.9 s', '1 m 1 s', '1 h 2 m'],
    );
    const at = '2024-01-01T00:00:00Z';
    const base = Date.parse(at);
    assert.deepEqual(
      [0, 30_000, 120_000, 7_200_000, 3 * 86_400_000].map((d) => formatRelative(at, base + d)),
      ['just now', '30 s ago', '2 min ago', '2 h ago', '3 d ago'],
    );
    assert.equal(formatRelative(undefined, base), '');
    assert.equal(formatRelative('nonsense', base), '');
  });

  it('previews values on one line', () => {
    assert.equal(preview('a\n  b'), 'a b');
    assert.equal(preview(undefined), 'null');
    assert.equal(preview('x'.repeat(100), 10), `${'x'.repeat(9)}…`);
  });
});
