/**
 * The client's model against the REAL server (`python -m flowrun lsp` from the repo's .venv)
 * over stdio: the tree the patches of live `flowrun/executionEvent`s build must be the tree
 * the server stores (`flowrun/execution`) as soon as the last patch arrives (read-your-writes:
 * no second look), for a run that succeeds, one that fails and one stopped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as rpc from 'vscode-jsonrpc/node';
import { renderDocument } from '../documentContent';
import { ExecutionModel } from '../executionModel';
import type { ExecuteResult, ExecutionEventParams, ExecutionTree } from '../protocol';
import { HistoryResult, Notifications, Requests, TERMINAL_EXECUTION } from '../protocol';
import { describe as describeItem } from '../treeItems';
import { childrenOf } from '../treeModel';
import { allNodes, ExecutionState } from '../treePatch';
import { RealServer, startServer } from './realServer';

const WAIT_MS = 60_000;

const HELLO = `version: 1
nodes:
  - id: add
    type: python
    with:
      code: |
        def main(a, b):
            return {"sum": a + b}
      args: {a: 2, b: 3}
  - id: talk
    type: shell
    needs: [add]
    with:
      run: "echo one; echo two >&2; echo three"
  - id: greet
    type: transform
    needs: [talk]
    with:
      value: {total: "\${{ nodes.add.output.sum }}"}
outputs:
  total: \${{ nodes.greet.output.total }}
`;

const FAILS = `version: 1
nodes:
  - id: explode
    type: python
    with:
      code: |
        def main():
            raise ValueError("no luck")
  - id: after
    type: transform
    needs: [explode]
    with:
      value: 1
`;

const LONG = `version: 1
nodes:
  - id: wait
    type: shell
    timeout: 120s
    with:
      run: "echo started; sleep 60"
`;

let server: RealServer;
let connection: rpc.MessageConnection;
let workspace: string;
const model = new ExecutionModel();

function uriOf(name: string): string {
  return pathToFileURL(path.join(workspace, name)).toString();
}

function waitFor(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    const sub = model.onDidChange(() => {
      if (check()) {
        clearTimeout(timer);
        sub.dispose();
        resolve();
      }
    });
  });
}

async function run(name: string): Promise<string> {
  const { executionId } = await connection.sendRequest<ExecuteResult>(Requests.execute, {
    uri: uriOf(name),
  });
  return executionId;
}

async function finishedRun(name: string): Promise<ExecutionState> {
  const id = await run(name);
  await waitFor(
    () => TERMINAL_EXECUTION.has(model.get(id)?.tree.status ?? ''),
    `${name} to finish`,
  );
  return model.get(id)!;
}

async function storedTree(id: string): Promise<ExecutionTree> {
  return connection.sendRequest<ExecutionTree>(Requests.execution, { executionId: id });
}

/** What must agree between the live tree and the stored one. */
function essentials(tree: ExecutionTree): unknown {
  return {
    status: tree.status,
    workflowId: tree.workflowId,
    outputs: tree.outputs,
    error: tree.error ? { type: tree.error.type, message: tree.error.message } : null,
    nodes: allNodes(tree).map(([stage, n]) => ({
      stage,
      id: n.id,
      type: n.type,
      status: n.status,
      attempts: n.attempts,
      input: n.input ?? null,
      output: n.output ?? null,
      error: n.error ? { type: n.error.type, message: n.error.message } : null,
      // the store adds `info` notes (retries, cuts) that no event carries
      logs: (n.logs ?? []).filter((l) => l.stream !== 'info').map((l) => `${l.stream}:${l.text}`),
    })),
  };
}

before(async () => {
  workspace = mkdtempSync(path.join(tmpdir(), 'flowrun-ext-server-'));
  writeFileSync(path.join(workspace, 'hello.workflow.yml'), HELLO);
  writeFileSync(path.join(workspace, 'fails.workflow.yml'), FAILS);
  writeFileSync(path.join(workspace, 'long.workflow.yml'), LONG);
  server = await startServer(workspace, { maxConcurrentRuns: 4 }, (connection) =>
    connection.onNotification(Notifications.executionEvent, (params: ExecutionEventParams) => {
      if (params.patch && !model.applyPatch(params.executionId, params.patch)) {
        void storedTree(params.executionId).then((tree) => model.setTree(tree));
      }
    }),
  );
  connection = server.connection;
});

after(async () => {
  await server.stop();
  rmSync(workspace, { recursive: true, force: true });
});

describe('against the real flowrun lsp', () => {
  it('builds from live patches the tree the server stores', async () => {
    const live = await finishedRun('hello.workflow.yml');
    assert.equal(live.tree.status, 'succeeded');
    const stored = await storedTree(live.tree.id);
    assert.deepEqual(essentials(live.tree), essentials(stored));
    const talk = allNodes(live.tree).find(([, n]) => n.id === 'talk')![1];
    assert.deepEqual(
      renderDocument(live.tree, { executionId: live.tree.id, nodeId: 'talk', part: 'logs' })!
        .split('\n')
        .sort(),
      ['', '[stderr] two', 'one', 'three'],
      JSON.stringify(talk.logs),
    );
    assert.equal(
      renderDocument(stored, { executionId: stored.id, nodeId: 'add', part: 'output' }),
      '{\n  "sum": 5\n}\n',
    );
  });

  it('shows a failed node with its traceback, and lists runs in the history', async () => {
    const live = await finishedRun('fails.workflow.yml');
    assert.equal(live.tree.status, 'failed');
    const stored = await storedTree(live.tree.id);
    assert.deepEqual(essentials(live.tree), essentials(stored));
    const node = {
      kind: 'node',
      executionId: live.tree.id,
      stageId: null,
      nodeId: 'explode',
      iteration: null,
    } as const;
    assert.deepEqual(
      childrenOf(model, node).map((c) => describeItem(model, c, Date.now())!.label),
      ['Input', 'Error'],
    );
    const error = renderDocument(live.tree, {
      executionId: live.tree.id,
      nodeId: 'explode',
      part: 'error',
    })!;
    assert.match(error, /no luck/);
    assert.match(error, /Traceback/);

    const history = await connection.sendRequest<HistoryResult>(Requests.history, { limit: 10 });
    const fresh = new ExecutionModel();
    fresh.setHistory(history.executions);
    assert.deepEqual(
      fresh.workflows().map((w) => w.workflowId),
      ['fails', 'hello'],
    );
    assert.equal(fresh.executionsOf('fails')[0].tree.status, 'failed');
  });

  it('follows a stop', async () => {
    const id = await run('long.workflow.yml');
    await waitFor(
      () =>
        (model.get(id)?.tree.children[0] as { logs?: unknown[] } | undefined)?.logs?.length === 1,
      'the long run to log',
    );
    const { stopped } = await connection.sendRequest<{ stopped: boolean }>(Requests.stop, {
      executionId: id,
    });
    assert.equal(stopped, true);
    await waitFor(() => TERMINAL_EXECUTION.has(model.get(id)?.tree.status ?? ''), 'the stop');
    const live = model.get(id)!.tree;
    assert.equal(live.status, 'stopped');
    assert.equal(allNodes(live)[0][1].status, 'stopped');
    assert.deepEqual(essentials(live), essentials(await storedTree(id)));
  });
});
