import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costParts, formatCost, formatTokens } from '../costText';
import { ExecutionModel } from '../executionModel';
import { describe as describeItem } from '../treeItems';
import { ran, tree } from './fixtures';

const NOW = Date.parse('2023-11-14T22:16:20.000Z');

describe('cost text', () => {
  it('reads like the terminal (flowrun/humanize.py)', () => {
    assert.deepEqual([0.0009, 0.004, 0.0421, 0.12, 1.5, 0.00001234, 0, null].map(formatCost), [
      '$0.0009',
      '$0.004',
      '$0.042',
      '$0.12',
      '$1.50',
      '$0.000012',
      '$0',
      '',
    ]);
    assert.deepEqual([812, 12_345, 1_234_567, undefined].map(formatTokens), [
      '812 tok',
      '12.3k tok',
      '1.2M tok',
      '',
    ]);
    assert.deepEqual(
      costParts({ llmCalls: 2, inputTokens: 700, outputTokens: 112, costUsd: 0.0009 }),
      ['812 tok', '$0.0009'],
    );
    assert.deepEqual(costParts({ llmCalls: 1, inputTokens: 5, outputTokens: 5, costUsd: null }), [
      '10 tok',
    ]);
    assert.deepEqual(costParts({ llmCalls: null }), []);
  });

  it('shows in the Executions view: execution and node descriptions, ⚡ for cached', () => {
    const model = new ExecutionModel();
    const cost = { llmCalls: 2, inputTokens: 700, outputTokens: 112, costUsd: 0.0009 };
    const ask = ran('ask', 'succeeded', { ...cost, durationMs: 1200 });
    const reused = ran('fetch', 'succeeded', { cached: true, durationMs: 0 });
    model.setTree(
      tree({ ...cost, durationMs: 1200, traceId: 'ab'.repeat(16), children: [ask, reused] }),
    );
    const execution = describeItem(model, { kind: 'execution', executionId: 'e1' }, NOW);
    assert.equal(execution?.description, 'succeeded · 1.2 s · 812 tok · $0.0009 · 3 min ago');
    assert.match(execution?.tooltip ?? '', /Trace: abab/);
    const node = (nodeId: string) =>
      describeItem(
        model,
        { kind: 'node', executionId: 'e1', nodeId, stageId: null, iteration: null },
        NOW,
      );
    assert.equal(node('ask')?.description, 'succeeded · 1.2 s · 812 tok · $0.0009');
    assert.equal(node('fetch')?.description, 'succeeded · 0 ms · ⚡ cached');
  });
});
