/** The paused state as the Variables view shows it (debug/variables.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DebugState } from '../debug/protocol';
import { completedNodes, display, stateScopes, VariableTree } from '../debug/variables';

const STATE: DebugState = {
  executionId: 'e1',
  status: 'paused',
  reason: 'breakpoint',
  pausedAt: ['greet'],
  inputs: { name: 'Ada' },
  trigger: {},
  env: { HOME: '/root' },
  secrets: { TOKEN: '••••' },
  nodes: [
    { id: 'add', status: 'succeeded', input: { a: 2, b: 3 }, output: { sum: 5 } },
    { id: 'boom', status: 'failed', output: null, error: { type: 'ExecutionError', message: 'x' } },
    { id: 'greet', status: 'pending' },
  ],
};

describe('debug variables', () => {
  it('lists the scopes the expressions know, nodes first, loop only when there is one', () => {
    assert.deepEqual(
      stateScopes(STATE).map(([name]) => name),
      ['nodes', 'inputs', 'trigger', 'env', 'secrets'],
    );
    const looped = stateScopes({ ...STATE, loop: { index: 2 } });
    assert.deepEqual(looped.at(-1), ['loop', { index: 2 }]);
  });

  it('shows every node that ran with its status, output and input, not the pending ones', () => {
    assert.deepEqual(completedNodes(STATE.nodes), {
      add: { status: 'succeeded', output: { sum: 5 }, input: { a: 2, b: 3 } },
      boom: {
        status: 'failed',
        output: null,
        input: null,
        error: { type: 'ExecutionError', message: 'x' },
      },
    });
  });

  it('previews values in one line, cut with an ellipsis', () => {
    assert.equal(display('hi'), '"hi"');
    assert.equal(display(5), '5');
    assert.equal(display(null), 'null');
    assert.equal(
      display({ sum: 5, items: [1, 2], deep: { a: 1 } }),
      '{sum: 5, items: Array(2), deep: {…}}',
    );
    assert.equal(display([]), '[]');
    assert.equal(
      display({ a: 'x'.repeat(30), b: 'y'.repeat(30), c: 'z'.repeat(30) }, 80).endsWith(', …}'),
      true,
    );
  });

  it('expands objects and arrays through references, and forgets them on reset', () => {
    const tree = new VariableTree();
    const ref = tree.ref(completedNodes(STATE.nodes));
    const [add] = tree.children(ref);
    assert.equal(add.name, 'add');
    assert.ok(add.variablesReference > 0);
    const fields = tree.children(add.variablesReference);
    const output = fields.find((v) => v.name === 'output')!;
    assert.equal(output.value, '{sum: 5}');
    assert.deepEqual(
      tree.children(output.variablesReference).map((v) => [v.name, v.value, v.variablesReference]),
      [['sum', '5', 0]],
    );
    assert.deepEqual(
      tree.children(tree.ref([7])).map((v) => [v.name, v.value]),
      [['[0]', '7']],
    );
    tree.reset();
    assert.deepEqual(tree.children(ref), []);
  });
});
