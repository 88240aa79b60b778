/**
 * How much the client costs per execution event, against a floor measured in the same run:
 * JSON.parse of the same event lines (the least any client must do to receive them).
 * A run of 200 nodes writing 50,000 log lines, then the tree items of every element.
 *
 *   node --import tsx bench/reducer.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { ExecutionModel } from '../src/executionModel';
import { EngineEvent } from '../src/protocol';
import { childrenOf, describe, TreeElement } from '../src/treeModel';

const NODES = 200;
const LOGS = 50_000;

function events(): EngineEvent[] {
  const t0 = 1_700_000_000;
  const nodes = Array.from({ length: NODES }, (_, i) => ({
    id: `n${i}`,
    type: 'shell',
    name: null,
  }));
  const out: EngineEvent[] = [
    {
      event: 'execution_started',
      t: t0,
      execution_id: 'e',
      workflow_id: 'w',
      plan: { stages: [{ id: null, loop: false, nodes }] },
    },
  ];
  let t = t0;
  for (const [i, node] of nodes.entries()) {
    out.push({
      event: 'node_started',
      t: (t += 0.001),
      node: node.id,
      attempt: 1,
      input: { i },
      stage: null,
      iteration: null,
    });
    for (let j = 0; j < LOGS / NODES; j++) {
      out.push({
        event: 'node_log',
        t: (t += 0.0001),
        node: node.id,
        stream: 'stdout',
        text: `line ${j} of ${node.id}`,
        stage: null,
        iteration: null,
      });
    }
    out.push({
      event: 'node_finished',
      t: (t += 0.001),
      node: node.id,
      status: 'succeeded',
      output: { i },
      error: null,
      attempt: 1,
      duration_ms: 1,
      stage: null,
      iteration: null,
    });
  }
  out.push({
    event: 'execution_finished',
    t: t + 1,
    status: 'succeeded',
    outputs: {},
    error: null,
  });
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

const all = events();
const lines = all.map((e) => JSON.stringify({ executionId: 'e', event: e }));

const floor = best(() => {
  for (const line of lines) {
    JSON.parse(line);
  }
});
const reduce = best(() => {
  const model = new ExecutionModel();
  for (const line of lines) {
    const { executionId, event } = JSON.parse(line) as { executionId: string; event: EngineEvent };
    model.applyEvent(executionId, event);
  }
});
const model = new ExecutionModel();
for (const e of all) {
  model.applyEvent('e', e);
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

const perEvent = (ms: number): string => `${((ms * 1000) / all.length).toFixed(2)} µs/event`;
console.log(`events: ${all.length} (${NODES} nodes, ${LOGS} log lines)`);
console.log(`floor  JSON.parse            ${floor.toFixed(1)} ms  ${perEvent(floor)}`);
console.log(
  `parse + reduce into model    ${reduce.toFixed(1)} ms  ${perEvent(reduce)}  ratio ${(reduce / floor).toFixed(2)}x`,
);
console.log(
  `tree items of every element  ${items.toFixed(1)} ms  (${NODES} nodes, once, as a full refresh)`,
);
