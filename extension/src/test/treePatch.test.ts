import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allNodes, applyPatch, emptyExecution, findNode } from '../treePatch';
import { flatRun, line, logs, node, ran, stage, started, tree } from './fixtures';

describe('applyPatch', () => {
  it('replaces by key and keeps the log lines it has', () => {
    const state = emptyExecution('e1');
    for (const patch of flatRun()) {
      assert.equal(applyPatch(state, patch), true);
    }
    assert.equal(state.loaded, true);
    assert.equal(state.tree.status, 'succeeded');
    assert.deepEqual(
      allNodes(state.tree).map(([, n]) => [n.id, n.status, n.logs?.map((l) => l.text)]),
      [
        ['fetch', 'succeeded', ['GET /x']],
        ['clean', 'succeeded', []],
      ],
    );
  });

  it('replaces a stage with its nodes: a new loop iteration takes the placeholder over', () => {
    const state = emptyExecution('e1');
    const check = node('check', { iteration: null });
    applyPatch(state, started({ children: [stage('review', [check], { loop: true })] }));
    const first = ran('check', 'running', { iteration: 1 });
    assert.equal(applyPatch(state, { stage: stage('review', [first]) }), true);
    const key = { stage: 'review', node: 'check', iteration: 1 };
    assert.equal(applyPatch(state, { logs: { ...key, lines: [line('one')] } }), true);
    const second = ran('check', 'running', { iteration: 2 });
    const review = stage('review', [ran('check', 'failed', { iteration: 1 }), second], {
      iterations: 2,
    });
    applyPatch(state, { stage: review });
    assert.deepEqual(
      allNodes(state.tree).map(([s, n]) => [s, n.iteration, n.status, n.logs?.length]),
      [
        ['review', 1, 'failed', 1],
        ['review', 2, 'running', 0],
      ],
    );
    assert.equal(findNode(state.tree, 'check', 2, 'review')?.status, 'running');
    assert.equal(findNode(state.tree, 'check', 2, 'other'), undefined);
  });

  it('asks for the tree when a patch names what it does not have', () => {
    const state = emptyExecution('e1');
    assert.equal(applyPatch(state, { node: ran('fetch', 'running') }), false, 'not loaded');
    applyPatch(state, started());
    assert.equal(applyPatch(state, { node: ran('nope', 'running') }), false);
    assert.equal(applyPatch(state, logs('nope', 'x')), false);
    assert.equal(applyPatch(state, { stage: stage('nope', []) }), false);
    assert.equal(applyPatch(state, {}), true);
  });

  it('does not share objects with the patch it applied', () => {
    const state = emptyExecution('e1');
    const patch = { execution: tree() };
    applyPatch(state, patch);
    applyPatch(state, logs('fetch', 'more'));
    assert.equal(
      patch.execution.children[0].kind === 'node' && patch.execution.children[0].logs?.length,
      1,
    );
    assert.deepEqual(
      findNode(state.tree, 'fetch')?.logs?.map((l) => l.text),
      ['more'],
      'an execution patch carries no logs: the client keeps its own',
    );
  });
});
