/**
 * How much the client costs per tree patch, against a floor measured in the same run:
 * JSON.parse of the same notification lines (the least any client must do to receive them).
 * A run of 200 nodes writing 50,000 log lines, then the tree items of every element.
 *
 *   node --import tsx bench/patches.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { ExecutionModel } from '../src/executionModel';
import { ExecutionTree, NodeTree, TreePatch } from '../src/protocol';
import { describe } from '../src/treeItems';
import { childrenOf, TreeElement } from '../src/treeModel';

const NODES = 200;
const LOGS = 50_000;

function node(i: number, status: NodeTree['status']): NodeTree {
  return { kind: 'node', id: `n${i}`, type: 'shell', status, attempts: 1, input: { i } };
}

function execution(status: ExecutionTree['status'], children: NodeTree[]): TreePatch {
  const at = '2023-11-14T22:13:20.000Z';
  return { execution: { id: 'e', workflowId: 'w', file: '/w', status, startedAt: at, children } };
}

function patches(): TreePatch[] {
  const ids = Array.from({ length: NODES }, (_, i) => i);
  const out = [
    execution(
      'running',
      ids.map((i) => node(i, 'pending')),
    ),
  ];
  for (const i of ids) {
    out.push({ node: node(i, 'running') });
    for (let j = 0; j < LOGS / NODES; j++) {
      const line = { t: null, stream: 'stdout' as const, text: `line ${j} of n${i}`, attempt: 1 };
      out.push({ logs: { stage: null, node: `n${i}`, iteration: null, lines: [line] } });
    }
    out.push({ node: { ...node(i, 'succeeded'), output: { i }, durationMs: 1 } });
  }
  out.push(
    execution(
      'succeeded',
      ids.map((i) => node(i, 'succeeded')),
    ),
  );
  return out;
}

function best(fn: () => void, runs = 5): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

const all = patches();
const lines = all.map((patch) => JSON.stringify({ executionId: 'e', patch }));

const floor = best(() => {
  for (const line of lines) {
    JSON.parse(line);
  }
});
const apply = best(() => {
  const model = new ExecutionModel();
  for (const line of lines) {
    const { executionId, patch } = JSON.parse(line) as { executionId: string; patch: TreePatch };
    model.applyPatch(executionId, patch);
  }
});
const model = new ExecutionModel();
for (const patch of all) {
  model.applyPatch('e', patch);
}
const items = best(() => {
  const walk = (element?: TreeElement): void => {
    for (const child of childrenOf(model, element)) {
      describe(model, child, Date.now());
      walk(child);
    }
  };
  walk();
});

const perEvent = (ms: number): string => `${((ms * 1000) / all.length).toFixed(2)} µs/patch`;
console.log(`patches: ${all.length} (${NODES} nodes, ${LOGS} log lines)`);
console.log(`floor  JSON.parse            ${floor.toFixed(1)} ms  ${perEvent(floor)}`);
console.log(
  `parse + apply to the model   ${apply.toFixed(1)} ms  ${perEvent(apply)}  ratio ${(apply / floor).toFixed(2)}x`,
);
console.log(
  `tree items of every element  ${items.toFixed(1)} ms  (${NODES} nodes, once, as a full refresh)`,
);
