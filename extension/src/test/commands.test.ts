import './setup';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import {
  ClientCommands,
  CommandHost,
  executionIdOf,
  failedNode,
  registerCommands,
} from '../commands';
import { ServerNotReady } from '../client';
import { ExecutionModel } from '../executionModel';
import { ExecutionMode, ExecutionTree, ServerCommands } from '../protocol';
import { node, ran, started, tree } from './fixtures';
import { answers, calls, registered, reset } from './vscodeFake';

const PACKAGE = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
) as {
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    menus: Record<string, Array<{ command: string }>>;
  };
};

class Host implements CommandHost {
  model = new ExecutionModel();
  logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };
  requests: Array<[string, object]> = [];
  replies: Record<string, unknown> = {};
  loaded: string[] = [];
  trees: Record<string, ExecutionTree> = {};
  revealed: string[] = [];
  modes: Array<string | undefined> = [];
  restarted = 0;
  async sendRequest<R>(method: string, params: object): Promise<R> {
    this.requests.push([method, params]);
    const reply = this.replies[method];
    if (reply instanceof Error) {
      throw reply;
    }
    return reply as R;
  }
  started(): void {}
  async loadTree(id: string): Promise<void> {
    this.loaded.push(id);
    this.model.setTree(this.trees[id] ?? tree({ id }));
  }
  async loadHistory(): Promise<void> {}
  async revealExecution(id: string): Promise<void> {
    this.revealed.push(id);
  }
  async setModeFilter(mode: ExecutionMode | undefined): Promise<void> {
    this.modes.push(mode);
  }
  async restartServer(): Promise<void> {
    this.restarted += 1;
  }
  async selectInterpreter(): Promise<void> {}
  showOutput(): void {}
}

function command(id: string): (...args: unknown[]) => Promise<unknown> {
  const handler = registered.get(id);
  assert.ok(handler, `${id} is not registered`);
  return handler as (...args: unknown[]) => Promise<unknown>;
}

beforeEach(() => {
  reset();
  registered.clear();
});

describe('registerCommands', () => {
  it("registers every command at activation, the server's too", () => {
    const disposables = registerCommands(new Host());
    const all = [...Object.values(ClientCommands), ...Object.values(ServerCommands)];
    assert.deepEqual([...registered.keys()].sort(), all.sort());
    disposables.forEach((d) => d.dispose());
    assert.equal(registered.size, 0);
  });

  it('declares every command in package.json with a stable title', () => {
    const declared = new Map(
      PACKAGE.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]),
    );
    for (const id of Object.values(ClientCommands)) {
      assert.ok(declared.has(id), `${id} is not in package.json`);
    }
    assert.equal(declared.get('flowrun.runTest'), 'Flowrun: Run Test');
    assert.equal(declared.get('flowrun.stopExecution'), 'Flowrun: Stop Execution…');
    assert.equal(declared.get('flowrun.showHistory'), 'Flowrun: Show History…');
    assert.equal(declared.get('flowrun.installDependencies'), 'Flowrun: Install Dependencies');
    assert.equal(declared.get('flowrun.restartServer'), 'Flowrun: Restart Server');
    assert.equal(declared.get('flowrun.selectInterpreter'), 'Flowrun: Select Python Interpreter');
    assert.equal(declared.get('flowrun.openExecutionJson'), 'Flowrun: Open Execution as JSON');
    assert.equal(declared.get('flowrun.rerunFromFailed'), 'Flowrun: Re-run from failed node');
    for (const menu of Object.values(PACKAGE.contributes.menus)) {
      for (const entry of menu) {
        assert.ok(declared.has(entry.command), `menu entry ${entry.command} is not declared`);
      }
    }
  });
});

describe('client commands', () => {
  it('resumes a paused execution, from a node too, and says what changed', async () => {
    const host = new Host();
    host.replies['flowrun/resume'] = { executionId: 'next', changed: ['fetch'] };
    registerCommands(host);
    await command(ClientCommands.resumeExecution)({ kind: 'execution', executionId: 'p1' });
    await command(ClientCommands.resumeFromNode)({ executionId: 'p1', nodeId: 'fetch' });
    assert.deepEqual(host.requests, [
      ['flowrun/resume', { executionId: 'p1' }],
      ['flowrun/resume', { executionId: 'p1', fromNode: 'fetch' }],
    ]);
    assert.ok(
      calls.some(
        (c) =>
          c.fn === 'showInformationMessage' && String(c.args[0]).includes('recorded outputs used'),
      ),
    );
  });

  it('stops the execution given by the tree', async () => {
    const host = new Host();
    host.replies['flowrun/stop'] = { stopped: true };
    registerCommands(host);
    await command(ClientCommands.stopExecution)({ kind: 'execution', executionId: 'e7' });
    assert.deepEqual(host.requests, [['flowrun/stop', { executionId: 'e7' }]]);
  });

  it('asks which running execution to stop', async () => {
    const host = new Host();
    host.model.applyPatch('live', started({ id: 'live' }));
    host.model.setTree(tree({ id: 'done' }));
    host.replies['flowrun/stop'] = { stopped: false };
    registerCommands(host);
    answers.quickPick = { executionId: 'live' };
    await command(ClientCommands.stopExecution)();
    const pick = calls.find((c) => c.fn === 'showQuickPick')!;
    const labels = (pick.args[0] as Array<{ label: string }>).map((i) => i.label);
    assert.deepEqual(labels, ['$(loading) hello · live'], 'the runs this server runs');
    assert.deepEqual(host.requests.at(-1), ['flowrun/stop', { executionId: 'live' }]);
    assert.ok(
      calls.some(
        (c) => c.fn === 'showInformationMessage' && String(c.args[0]).includes('is not running'),
      ),
    );
  });

  it('says so when nothing runs', async () => {
    const host = new Host();
    host.replies['flowrun/history'] = { executions: [] };
    registerCommands(host);
    await command(ClientCommands.stopExecution)();
    assert.deepEqual(calls, [
      { fn: 'showInformationMessage', args: ['Flowrun: no execution is running.'] },
    ]);
  });

  it("re-runs through the server, which reuses the execution's trigger and inputs", async () => {
    const host = new Host();
    host.replies['flowrun/execute'] = { executionId: 'new' };
    registerCommands(host);
    await command(ClientCommands.rerunExecution)({ kind: 'execution', executionId: 'e1' });
    const base = { uri: 'file:///w/hello.workflow.yml', fromExecution: 'e1' };
    assert.deepEqual(host.requests[0], ['flowrun/execute', base]);
    const element = { kind: 'node', executionId: 'e1', stageId: null, nodeId: 'fetch' };
    await command(ClientCommands.rerunFromNode)({ ...element, iteration: null });
    assert.deepEqual(host.requests[1], ['flowrun/execute', { ...base, fromNode: 'fetch' }]);
    await command(ClientCommands.rerunFromNode)('e1');
    assert.equal(host.requests.length, 2);
    assert.ok(calls.some((c) => String(c.args[0]).includes('on a node in the Executions view')));
  });

  it('debugs a production execution in the editor: its file opens, it re-runs', async () => {
    const host = new Host();
    host.replies['flowrun/execute'] = { executionId: 'new' };
    host.trees.prod = tree({ id: 'prod', mode: 'production' });
    registerCommands(host);
    await command(ClientCommands.debugInEditor)({ kind: 'execution', executionId: 'prod' });
    const opened = calls.find((c) => c.fn === 'showTextDocument')!;
    assert.equal(String(opened.args[0]), 'file:///w/hello.workflow.yml');
    assert.deepEqual(host.requests, [
      ['flowrun/execute', { uri: 'file:///w/hello.workflow.yml', fromExecution: 'prod' }],
    ]);
    host.replies['flowrun/history'] = { executions: [] };
    await command(ClientCommands.debugInEditor)();
    assert.deepEqual(host.requests[1], ['flowrun/history', { limit: 200, mode: 'production' }]);
  });

  it('filters the view by mode', async () => {
    const host = new Host();
    registerCommands(host);
    answers.quickPick = { label: 'production' };
    await command(ClientCommands.filterByMode)();
    answers.quickPick = { label: 'All modes' };
    await command(ClientCommands.filterByMode)();
    answers.quickPick = undefined;
    await command(ClientCommands.filterByMode)();
    assert.deepEqual(host.modes, ['production', undefined]);
  });

  it('re-runs from the failed node, or says there is none', async () => {
    const host = new Host();
    host.replies['flowrun/execute'] = { executionId: 'new' };
    const children = [ran('fetch', 'succeeded'), ran('clean', 'failed'), node('last')];
    host.trees.bad = tree({ id: 'bad', status: 'failed', children });
    registerCommands(host);
    await command(ClientCommands.rerunFromFailed)('bad');
    assert.equal((host.requests[0][1] as { fromNode: string }).fromNode, 'clean');
    await command(ClientCommands.rerunFromFailed)({ executionId: 'e1' });
    assert.ok(calls.some((c) => String(c.args[0]).includes('has no failed node')));
  });

  it('picks from the history when the palette gives no execution', async () => {
    const host = new Host();
    host.replies['flowrun/history'] = {
      executions: [
        {
          id: 'e1',
          workflowId: 'hello',
          file: '/w',
          status: 'failed',
          startedAt: null,
          error: { type: 'X', message: 'y' },
        },
      ],
    };
    registerCommands(host);
    answers.quickPick = { executionId: 'e1' };
    await command(ClientCommands.openExecutionJson)();
    assert.deepEqual(host.requests[0], ['flowrun/history', { limit: 200 }]);
    assert.equal(
      calls.find((c) => c.fn === 'openTextDocument')?.args[0],
      'flowrun:/e1/execution.json',
    );
    host.replies['flowrun/history'] = { executions: [] };
    await command(ClientCommands.rerunFromFailed)();
    assert.ok(calls.some((c) => c.args[0] === 'Flowrun: no execution matches.'));
  });

  it('copies an execution id and reveals a node definition', async () => {
    const host = new Host();
    host.model.setTree(tree());
    registerCommands(host);
    await command(ClientCommands.copyExecutionId)({ executionId: 'e1' });
    assert.ok(calls.some((c) => c.fn === 'clipboard.writeText' && c.args[0] === 'e1'));
    const at = { line: 2, character: 8 };
    answers.command = [{ name: 'fetch', selectionRange: { start: at, end: at } }];
    await command(ClientCommands.revealNode)({ executionId: 'e1', nodeId: 'fetch' });
    const shown = calls.find((c) => c.fn === 'showTextDocument')!;
    const selection = (
      shown.args[1] as { selection: { start: { line: number; character: number } } }
    ).selection;
    assert.deepEqual({ ...selection.start }, { line: 2, character: 8 });
  });

  it('shows a failing command as an error message', async () => {
    const host = new Host();
    host.replies['flowrun/stop'] = new Error('The Flowrun server is not running.');
    registerCommands(host);
    await command(ClientCommands.stopExecution)('e1');
    assert.deepEqual(calls.at(-1), {
      fn: 'showErrorMessage',
      args: ['Flowrun: The Flowrun server is not running.'],
    });
  });

  it('explains a server that is not ready, with the action that helps', async () => {
    const host = new Host();
    const action = { title: 'Start Server', command: 'flowrun.restartServer' };
    host.replies['flowrun/execute'] = new ServerNotReady('The Flowrun server is not running.', [
      action,
    ]);
    registerCommands(host);
    answers.message = 'Start Server';
    await command(ServerCommands.runTest)({ uri: 'file:///w/a.workflow.yml' });
    assert.deepEqual(calls.slice(-2), [
      {
        fn: 'showErrorMessage',
        args: ['Flowrun: The Flowrun server is not running.', 'Start Server'],
      },
      { fn: 'executeCommand', args: ['flowrun.restartServer'] },
    ]);
  });

  it('restarts the server', async () => {
    const host = new Host();
    registerCommands(host);
    await command(ClientCommands.restartServer)();
    assert.equal(host.restarted, 1);
  });

  it('runs a test with an edited request', async () => {
    const host = new Host();
    host.replies['flowrun/execute'] = { executionId: 'new' };
    registerCommands(host);
    answers.input = '{"method": "POST", "body": {"x": 1}}';
    await command(ClientCommands.runTestWithRequest)({
      uri: 'file:///w/a.workflow.yml',
      trigger: { method: 'GET' },
    });
    const box = calls.find((c) => c.fn === 'showInputBox')!.args[0] as {
      value: string;
      validateInput(v: string): string | undefined;
    };
    assert.equal(box.value, '{"method":"GET"}');
    assert.equal(box.validateInput('[1]'), 'Enter a JSON object.');
    assert.match(box.validateInput('{')!, /^Not JSON/);
    assert.deepEqual(host.requests.at(-1), [
      'flowrun/execute',
      { uri: 'file:///w/a.workflow.yml', trigger: { method: 'POST', body: { x: 1 } } },
    ]);
  });
});

describe('helpers', () => {
  it('reads execution ids from command arguments', () => {
    assert.equal(executionIdOf('abc'), 'abc');
    assert.equal(executionIdOf({ kind: 'execution', executionId: 'e1' }), 'e1');
    assert.equal(executionIdOf({ executionId: 3 }), undefined);
    assert.equal(executionIdOf(undefined), undefined);
  });

  it('finds the failed node from the error or the tree', () => {
    assert.equal(failedNode(tree({ error: { type: 'X', message: 'm', node: 'n1' } })), 'n1');
    assert.equal(failedNode(tree()), undefined);
  });
});
