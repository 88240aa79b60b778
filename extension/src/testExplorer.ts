/**
 * VS Code's Test Explorer for workflow tests: a "Flowrun" test controller whose items the
 * server computes (`flowrun/listTests`, asked again when a workflow file changes, appears or
 * goes) and whose runs the server does (`flowrun/runTests`, results streamed as
 * `flowrun/testEvent`; cancelling one sends `flowrun/cancelTests`, which stops its running
 * executions). A failure shows expected/actual (the diff view) at the failed expectation.
 * Continuous run: a saved workflow file's tests run again. ("Add as Test" on an execution of
 * the Executions view is a command of commands.ts.)
 */
import * as vscode from 'vscode';
import { Logger } from './logger';
import {
  CancelTestsResult,
  ListTestsResult,
  Requests,
  RunTestsResult,
  TestEventParams,
  WORKFLOW_FILE,
  WORKFLOW_GLOB,
} from './protocol';
import { itemsOf, selectionOf, TestItemSpec } from './testItems';

const EDIT_DELAY_MS = 300;

export interface TestExplorerHost {
  logger: Logger;
  sendRequest<T>(method: string, params: object): Promise<T>;
}

interface ActiveRun {
  run: vscode.TestRun;
  done: () => void;
}

export class FlowrunTestExplorer implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController('flowrun', 'Flowrun');
  private readonly runs = new Map<string, ActiveRun>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Continuous runs going on, with their tokens (a run on save is cancelled with them). */
  private readonly continuous = new Map<vscode.TestRunRequest, vscode.CancellationToken>();
  private nextRun = 0;

  constructor(private readonly host: TestExplorerHost) {
    const run = this.controller.createRunProfile(
      'Run',
      vscode.TestRunProfileKind.Run,
      (request, token) => this.run(request, token),
      true,
      undefined,
      true,
    );
    this.controller.refreshHandler = () => this.refreshAll();
    this.controller.resolveHandler = async (item) => {
      if (item === undefined) {
        await this.refreshAll();
      }
    };
    const watcher = vscode.workspace.createFileSystemWatcher(WORKFLOW_GLOB);
    this.disposables.push(
      this.controller,
      run,
      watcher,
      watcher.onDidCreate((uri) => this.refreshSoon(uri.toString())),
      watcher.onDidChange((uri) => this.refreshSoon(uri.toString())),
      watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString())),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (WORKFLOW_FILE.test(e.document.fileName)) {
          this.refreshSoon(e.document.uri.toString());
        }
      }),
      vscode.workspace.onDidSaveTextDocument((document) => this.runOnSave(document)),
    );
  }

  dispose(): void {
    for (const timer of this.timers.values()) {
      clearTimeout(timer);
    }
    for (const active of this.runs.values()) {
      active.run.end();
    }
    this.disposables.forEach((d) => d.dispose());
  }

  /** The server (re)started: list every test again. */
  async refreshAll(): Promise<void> {
    try {
      const result = await this.host.sendRequest<ListTestsResult>(Requests.listTests, {});
      this.controller.items.replace(itemsOf(result.files).map((spec) => this.item(spec)));
    } catch (error) {
      this.host.logger.warn(`listTests: ${String(error)}`);
    }
  }

  onEvent(event: TestEventParams): void {
    const active = this.runs.get(event.runId);
    if (active === undefined) {
      return;
    }
    if (event.state === 'finished') {
      this.runs.delete(event.runId);
      active.run.end();
      active.done();
      return;
    }
    const item = event.id ? this.find(event.id) : undefined;
    const durationMs = event.durationMs ?? undefined;
    if (item === undefined) {
      return;
    }
    if (event.state === 'started') {
      active.run.started(item);
    } else if (event.state === 'passed') {
      active.run.passed(item, durationMs);
    } else {
      const messages = (event.messages ?? []).map((m) => {
        const message =
          m.expected !== null && m.actual !== null
            ? vscode.TestMessage.diff(m.message, m.expected, m.actual)
            : new vscode.TestMessage(m.message);
        const start = new vscode.Position(m.range.start.line, m.range.start.character);
        message.location = new vscode.Location(vscode.Uri.parse(m.uri), start);
        return message;
      });
      if (event.state === 'failed') {
        active.run.failed(item, messages, durationMs);
      } else {
        active.run.errored(item, messages, durationMs);
      }
    }
  }

  private item(spec: TestItemSpec): vscode.TestItem {
    const item = this.controller.createTestItem(spec.id, spec.label, vscode.Uri.parse(spec.uri));
    if (spec.line !== undefined) {
      item.range = new vscode.Range(spec.line, 0, spec.line, 0);
    }
    item.error = spec.error;
    item.children.replace(spec.children.map((child) => this.item(child)));
    return item;
  }

  private find(id: string): vscode.TestItem | undefined {
    for (const [, file] of this.controller.items) {
      const found = file.children.get(id);
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }

  private refreshSoon(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        void this.refreshFile(uri);
      }, EDIT_DELAY_MS),
    );
  }

  private async refreshFile(uri: string): Promise<void> {
    try {
      const result = await this.host.sendRequest<ListTestsResult>(Requests.listTests, { uri });
      const [spec] = itemsOf(result.files);
      if (spec === undefined) {
        this.controller.items.delete(uri);
      } else {
        this.controller.items.add(this.item(spec));
      }
    } catch (error) {
      this.host.logger.debug(`listTests ${uri}: ${String(error)}`);
    }
  }

  private async run(
    request: vscode.TestRunRequest,
    token: vscode.CancellationToken,
  ): Promise<void> {
    if (request.continuous) {
      this.continuous.set(request, token);
      token.onCancellationRequested(() => this.continuous.delete(request));
      return;
    }
    const chosen = request.include?.filter((item) => !request.exclude?.includes(item));
    const runId = `vscode-${Date.now()}-${this.nextRun++}`;
    const params = selectionOf(
      chosen?.map((item) => ({
        id: item.id,
        uri: item.uri?.toString() ?? item.id,
        isFile: item.parent === undefined,
        label: item.label,
      })),
      runId,
    );
    const run = this.controller.createTestRun(request);
    const finished = new Promise<void>((done) => this.runs.set(runId, { run, done }));
    const started = this.host.sendRequest<RunTestsResult>(Requests.runTests, params);
    const cancelling = token.onCancellationRequested(() => this.cancel(runId, started));
    try {
      for (const id of (await started).tests) {
        const item = this.find(id);
        if (item !== undefined) {
          run.enqueued(item);
        }
      }
    } catch (error) {
      run.appendOutput(`Flowrun could not run the tests: ${String(error)}\r\n`);
      this.onEvent({ runId, state: 'finished' });
    }
    await finished;
    cancelling.dispose();
  }

  /** The user cancelled the run: it ends now; once the server has it (`started`), the server
   * stops its executions. */
  private cancel(runId: string, started: Promise<unknown>): void {
    this.onEvent({ runId, state: 'finished' });
    started
      .then(() => this.host.sendRequest<CancelTestsResult>(Requests.cancelTests, { runId }))
      .catch((error) => this.host.logger.warn(`cancelTests: ${String(error)}`));
  }

  /** Continuous run: a saved workflow file's tests run again while a continuous run is on. */
  private runOnSave(document: vscode.TextDocument): void {
    const file = this.controller.items.get(document.uri.toString());
    if (file === undefined || this.continuous.size === 0) {
      return;
    }
    const watching = [...this.continuous].find(
      ([r]) => r.include === undefined || r.include.some((i) => i === file || i.parent === file),
    );
    if (watching !== undefined) {
      void this.run(new vscode.TestRunRequest([file]), watching[1]);
    }
  }
}
