/**
 * The Test Explorer (testExplorer.ts on the fake Testing API) against the REAL server: items
 * are what the server lists and follow edits, file creation and deletion; a run shows passes,
 * failures with their expected/actual diff at the failed expectation; a continuous run runs a
 * saved file's tests again; cancelling a run stops its executions on the server.
 */
import './setup';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { HistoryResult, Notifications, Requests, TestEventParams } from '../protocol';
import { FlowrunTestExplorer } from '../testExplorer';
import { RealServer, startServer } from './realServer';
import {
  CancellationTokenSource,
  documentChanged,
  documentSaved,
  TestControllerFake,
  testControllers,
  TestItemFake,
  TestRunFake,
  TestRunRequest,
  Uri,
  watchers,
} from './vscodeFake';

const WAIT_MS = 60_000;

const GREET = `version: 1
nodes:
  - id: greet
    type: transform
    with:
      value: hello
outputs:
  said: \${{ nodes.greet.output }}
tests:
  - name: says hello
    expect:
      outputs: {said: hello}
  - name: expects good morning
    expect:
      outputs:
        said: good morning
`;

const SLOW = `version: 1
nodes:
  - id: wait
    type: shell
    with:
      run: "sleep 120"
tests:
  - name: waits
    expect: {status: succeeded}
`;

const MADE = `version: 1
nodes:
  - {id: one, type: transform, with: {value: 1}}
tests:
  - name: made later
    expect: {status: succeeded}
`;

let server: RealServer;
let workspace: string;
let explorer: FlowrunTestExplorer;
let controller: TestControllerFake;

function uriOf(name: string): string {
  return pathToFileURL(path.join(workspace, name)).toString();
}

function document(name: string): { uri: Uri; fileName: string } {
  return { uri: Uri.parse(uriOf(name)), fileName: path.join(workspace, name) };
}

async function until<T>(check: () => T | undefined | false, what: () => string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = check();
    if (found) {
      return found;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function labels(): Record<string, string[]> {
  const shown: Record<string, string[]> = {};
  for (const [, file] of controller.items) {
    shown[file.label] = [...file.children].map(([, test]) => test.label);
  }
  return shown;
}

function file(name: string): TestItemFake {
  return controller.items.get(uriOf(name))!;
}

/** Tell the server about the editor's text of `name`, then the explorer that it changed. */
function edit(name: string, text: string, version: number): void {
  const textDocument = { uri: uriOf(name), version };
  if (version === 1) {
    void server.connection.sendNotification('textDocument/didOpen', {
      textDocument: { ...textDocument, languageId: 'yaml', text },
    });
  } else {
    void server.connection.sendNotification('textDocument/didChange', {
      textDocument,
      contentChanges: [{ text }],
    });
  }
  documentChanged.fire({ document: document(name) });
}

async function ended(run: TestRunFake): Promise<Record<string, string>> {
  await until(
    () => run.ended,
    () => `the run to end: ${JSON.stringify(run.outcomes())}`,
  );
  return run.outcomes();
}

before(async () => {
  workspace = mkdtempSync(path.join(tmpdir(), 'flowrun-ext-tests-'));
  writeFileSync(path.join(workspace, 'greet.workflow.yml'), GREET);
  writeFileSync(path.join(workspace, 'slow.workflow.yml'), SLOW);
  server = await startServer(workspace, { maxConcurrentRuns: 2 }, (connection) =>
    connection.onNotification(Notifications.testEvent, (event: TestEventParams) =>
      explorer.onEvent(event),
    ),
  );
  const logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
  explorer = new FlowrunTestExplorer({
    logger,
    sendRequest: (method, params) => server.connection.sendRequest(method, params),
  });
  controller = testControllers[testControllers.length - 1];
});

after(async () => {
  explorer.dispose();
  await server.stop();
  rmSync(workspace, { recursive: true, force: true });
});

describe('the Test Explorer against the real flowrun lsp', () => {
  it('shows the tests the server lists, each on its `- name:` line', async () => {
    await explorer.refreshAll();
    assert.deepEqual(labels(), {
      'greet.workflow.yml': ['says hello', 'expects good morning'],
      'slow.workflow.yml': ['waits'],
    });
    const lines = [...file('greet.workflow.yml').children].map(([, t]) => t.range?.start.line);
    assert.deepEqual(lines, [9, 12]);
  });

  it('follows edits, file creation and deletion (the server lists each file again)', async () => {
    edit('greet.workflow.yml', `${GREET}  - name: typed in the editor\n`, 1);
    await until(
      () => labels()['greet.workflow.yml']?.includes('typed in the editor'),
      () => `the edit's test: ${JSON.stringify(labels())}`,
    );
    edit('greet.workflow.yml', GREET, 2);
    await until(
      () => labels()['greet.workflow.yml']?.length === 2,
      () => `the edit undone: ${JSON.stringify(labels())}`,
    );

    writeFileSync(path.join(workspace, 'made.workflow.yml'), MADE);
    const [watcher] = watchers;
    assert.equal(watcher.glob, '**/*.workflow.{yml,yaml}');
    watcher.created.fire(Uri.parse(uriOf('made.workflow.yml')));
    await until(
      () => labels()['made.workflow.yml']?.join() === 'made later',
      () => `the created file: ${JSON.stringify(labels())}`,
    );
    edit('made.workflow.yml', MADE.slice(0, MADE.indexOf('tests:')), 1);
    await until(
      () => !('made.workflow.yml' in labels()),
      () => `the file without tests to go: ${JSON.stringify(labels())}`,
    );
    edit('made.workflow.yml', MADE, 2);
    await until(
      () => 'made.workflow.yml' in labels(),
      () => 'its tests back',
    );
    unlinkSync(path.join(workspace, 'made.workflow.yml'));
    watcher.deleted.fire(Uri.parse(uriOf('made.workflow.yml')));
    assert.deepEqual(Object.keys(labels()).sort(), ['greet.workflow.yml', 'slow.workflow.yml']);
  });

  it('runs a file: one pass, one failure whose message is the diff at the expectation', async () => {
    const [profile] = controller.profiles;
    const request = new TestRunRequest([file('greet.workflow.yml')]);
    await profile.runHandler(request, new CancellationTokenSource().token);
    const run = controller.runs[controller.runs.length - 1];
    assert.deepEqual(await ended(run), {
      'says hello': 'passed',
      'expects good morning': 'failed',
    });
    const failed = [...run.messages.values()].flat();
    assert.equal(failed.length, 1);
    const [message] = failed;
    assert.equal(message.expectedOutput, '"good morning"');
    assert.equal(message.actualOutput, '"hello"');
    assert.equal(message.location?.uri.toString(), uriOf('greet.workflow.yml'));
    assert.equal(message.location?.range.line, 15); // `said: good morning`
  });

  it('continuous run: a save runs the saved file again, until it is cancelled', async () => {
    const [profile] = controller.profiles;
    assert.equal(profile.supportsContinuousRun, true);
    const before = controller.runs.length;
    documentSaved.fire(document('greet.workflow.yml'));
    assert.equal(controller.runs.length, before, 'no continuous run: a save runs nothing');

    const continuous = new CancellationTokenSource();
    const request = new TestRunRequest([file('greet.workflow.yml')], undefined, profile, true);
    await profile.runHandler(request, continuous.token);
    documentSaved.fire(document('slow.workflow.yml'));
    assert.equal(controller.runs.length, before, 'a file the continuous run does not watch');
    documentSaved.fire(document('greet.workflow.yml'));
    assert.equal(controller.runs.length, before + 1);
    const run = controller.runs[before];
    assert.deepEqual(run.request.include, [file('greet.workflow.yml')]);
    assert.deepEqual(await ended(run), {
      'says hello': 'passed',
      'expects good morning': 'failed',
    });

    continuous.cancel();
    documentSaved.fire(document('greet.workflow.yml'));
    assert.equal(controller.runs.length, before + 1, 'after the continuous run was cancelled');
  });

  it('cancelling a run stops its execution on the server', async () => {
    const [profile] = controller.profiles;
    const source = new CancellationTokenSource();
    const slow = file('slow.workflow.yml');
    const handled = profile.runHandler(new TestRunRequest([slow]), source.token);
    const run = controller.runs[controller.runs.length - 1];
    const [[id]] = [...slow.children];
    await until(
      () => run.states.get(id)?.includes('started'),
      () => 'the slow test to start',
    );
    source.cancel();
    await handled;
    assert.equal(run.ended, true);
    const status = async (): Promise<string | undefined> => {
      const history = await server.connection.sendRequest<HistoryResult>(Requests.history, {});
      return history.executions.find((e) => e.workflowId === 'slow')?.status;
    };
    let last: string | undefined;
    const deadline = Date.now() + WAIT_MS;
    while ((last = await status()) !== 'stopped' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(last, 'stopped');
  });
});
