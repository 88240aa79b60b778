import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionModel, ModelChange } from '../executionModel';
import { ExecutionSummary } from '../protocol';
import { flatRun, logs, started, tree } from './fixtures';

function summary(
  id: string,
  workflowId: string,
  status: ExecutionSummary['status'],
  startedAt: string,
): ExecutionSummary {
  return {
    id,
    workflowId,
    file: `/w/${workflowId}.workflow.yml`,
    status,
    startedAt,
    finishedAt: null,
    durationMs: 5,
    trigger: 'manual',
    error: null,
  };
}

function watch(model: ExecutionModel): ModelChange[] {
  const changes: ModelChange[] = [];
  model.onDidChange((c) => changes.push(c));
  return changes;
}

describe('ExecutionModel', () => {
  it('groups executions by workflow, newest first', () => {
    const model = new ExecutionModel();
    model.setHistory([
      summary('a', 'hello', 'succeeded', '2024-01-01T00:00:00Z'),
      summary('b', 'hello', 'failed', '2024-01-02T00:00:00Z'),
      summary('c', 'alpha', 'succeeded', '2024-01-01T00:00:00Z'),
    ]);
    assert.deepEqual(
      model.workflows().map((w) => w.workflowId),
      ['alpha', 'hello'],
    );
    assert.deepEqual(
      model.executionsOf('hello').map((s) => s.tree.id),
      ['b', 'a'],
    );
    assert.equal(model.get('b')!.loaded, false);
    assert.equal(model.workflows()[1].file, '/w/hello.workflow.yml');
  });

  it('reports which execution a patch changed, and that it is new', () => {
    const model = new ExecutionModel();
    const changes = watch(model);
    const [first, second] = flatRun();
    assert.equal(model.applyPatch('e1', first), true);
    assert.equal(model.applyPatch('e1', second), true);
    assert.deepEqual(changes, [
      { executionId: 'e1', workflowId: 'hello', added: true, finished: false },
      { executionId: 'e1', workflowId: 'hello', added: false, finished: false },
    ]);
  });

  it('says when an execution finishes, once', () => {
    const model = new ExecutionModel();
    const changes = watch(model);
    for (const patch of [...flatRun(), flatRun()[6]]) {
      model.applyPatch('e1', patch);
    }
    assert.deepEqual(changes.filter((c) => c.finished).length, 1);
    assert.equal(model.running().length, 0);
  });

  it('counts queued and running executions as running, not paused ones', () => {
    const model = new ExecutionModel();
    model.setTree(tree({ id: 'p', status: 'paused' }));
    model.setTree(tree({ id: 'q', status: 'queued' }));
    assert.deepEqual(
      model.running().map((s) => s.tree.id),
      ['q'],
    );
  });

  it('says a patch it cannot place needs the whole tree', () => {
    const model = new ExecutionModel();
    assert.equal(model.applyPatch('x', logs('a', 'hi')), false);
    assert.equal(model.get('x')!.loaded, false);
  });

  it('keeps live executions the history does not list yet, and drops finished ones', () => {
    const model = new ExecutionModel();
    model.applyPatch('live', started({ id: 'live' }));
    model.setTree(tree({ id: 'old' }));
    model.setHistory([summary('a', 'hello', 'succeeded', '2024-01-01T00:00:00Z')]);
    assert.deepEqual(
      model
        .all()
        .map((s) => s.tree.id)
        .sort(),
      ['a', 'live'],
    );
    assert.equal(model.running().length, 1);
  });

  it('fetches again a tree whose status the history contradicts', () => {
    const model = new ExecutionModel();
    model.setTree(tree({ status: 'running' }));
    model.setHistory([summary('e1', 'hello', 'running', '2024-01-01T00:00:00Z')]);
    assert.equal(model.get('e1')!.loaded, true, 'the same status: the tree stays');
    model.setHistory([
      {
        ...summary('e1', 'hello', 'failed', '2024-01-01T00:00:00Z'),
        error: { type: 'X', message: 'y' },
      },
    ]);
    const state = model.get('e1')!;
    assert.equal(state.tree.status, 'failed');
    assert.equal(state.tree.error?.type, 'X');
    assert.equal(state.loaded, false, 'the provider fetches it when it is next shown');
    assert.equal(state.tree.children.length, 1, 'what it showed stays until then');
  });

  it('notes a run this client started before its first event', () => {
    const model = new ExecutionModel();
    const changes = watch(model);
    model.noteStarted('e9', 'hello', '/w/hello.workflow.yml');
    model.noteStarted('e9', 'other', '/x');
    assert.equal(model.get('e9')!.tree.status, 'queued');
    assert.equal(model.get('e9')!.tree.workflowId, 'hello');
    assert.equal(changes.length, 1);
    assert.deepEqual(model.all()[0].tree.id, 'e9');
  });

  it('refreshes everything when the first patch names another workflow', () => {
    const model = new ExecutionModel();
    model.noteStarted('e1', 'guess', '/w/guess.workflow.yml');
    const changes = watch(model);
    model.applyPatch('e1', started());
    assert.deepEqual(changes, [{ finished: false }]);
    assert.deepEqual(
      model.workflows().map((w) => w.workflowId),
      ['hello'],
    );
  });

  it('groups executions without a workflow id and forgets all on clear', () => {
    const model = new ExecutionModel();
    const changes = watch(model);
    model.applyPatch('x', logs('a', 'hi'));
    assert.deepEqual(model.workflows(), [{ workflowId: '(unknown workflow)', file: '' }]);
    assert.equal(model.executionsOf('(unknown workflow)').length, 1);
    const sub = model.onDidChange(() => undefined);
    sub.dispose();
    model.clear();
    assert.equal(model.all().length, 0);
    assert.deepEqual(changes.at(-1), {});
  });

  it('shows only the filtered mode, and executions whose mode is not known yet', () => {
    const model = new ExecutionModel();
    model.setTree(tree({ id: 'prod', mode: 'production' }));
    model.setTree(tree({ id: 'mine', mode: 'test', startedAt: '2023-11-14T22:14:00.000Z' }));
    model.noteStarted('new', 'hello', '/w/hello.workflow.yml');
    const shown = (): string[] => model.executionsOf('hello').map((s) => s.tree.id);
    assert.deepEqual(shown(), ['new', 'mine', 'prod']);
    model.modeFilter = 'production';
    assert.deepEqual(shown(), ['new', 'prod']);
    model.modeFilter = 'batch';
    assert.deepEqual(shown(), ['new']);
    assert.deepEqual(model.workflows(), [{ workflowId: 'hello', file: '/w/hello.workflow.yml' }]);
    assert.equal(model.running().length, 1, 'the status bar still counts every run');
  });
});
