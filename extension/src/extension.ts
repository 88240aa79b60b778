/** Composition only: build the parts, wire them together, start the server. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FlowrunClient } from './client';
import { CommandHost, registerCommands } from './commands';
import { editorRequests, registerDebugger } from './debug/register';
import { ClientChannel } from './debug/serverChannel';
import { ExecutionModel } from './executionModel';
import { ExecutionsView } from './executionsTree';
import { SCHEME } from './flowrunUri';
import { currentSettings, InterpreterSetup, selectInterpreter } from './interpreterSetup';
import { ExecutionDocuments } from './jsonDocuments';
import { languageClientFactory } from './languageClient';
import { createLogger } from './logger';
import { notifyFailure, reportStartFailure } from './notifications';
import {
  ExecutionEventParams,
  ExecutionTree,
  HistoryParams,
  HistoryResult,
  Notifications,
  Requests,
  TestEventParams,
  WORKFLOW_FILE,
  WORKFLOW_GLOB,
} from './protocol';
import { PythonExtensionProvider, pythonExtensionProvider } from './pythonProvider';
import { needsRestart } from './settings';
import { FlowrunStatusBar } from './statusBar';
import { FlowrunTestExplorer } from './testExplorer';

const HISTORY_LIMIT = 200;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const outputChannel = vscode.window.createOutputChannel('Flowrun', { log: true });
  const logger = createLogger(outputChannel);
  const model = new ExecutionModel();
  const statusBar = new FlowrunStatusBar();
  let provider: PythonExtensionProvider | undefined;

  // `client` is assigned below; the setup only calls back after activation.
  // eslint-disable-next-line prefer-const
  let client: FlowrunClient;
  const setup = new InterpreterSetup(
    context,
    logger,
    () => provider,
    () => void client.requestRestart(true),
  );
  const send = <R>(method: string, params: object): Promise<R> =>
    client.sendRequest<R>(method, params);
  const debugChannel = new ClientChannel(editorRequests(send));

  const loadTree = async (executionId: string): Promise<void> => {
    model.setTree(await send<ExecutionTree>(Requests.execution, { executionId }));
  };
  const loadHistory = async (): Promise<void> => {
    const params: HistoryParams = { limit: HISTORY_LIMIT, mode: model.modeFilter };
    model.setHistory((await send<HistoryResult>(Requests.history, params)).executions);
  };
  const view = new ExecutionsView(model, loadTree, logger, context.workspaceState, loadHistory);

  const host: CommandHost = {
    model,
    logger,
    sendRequest: send,
    started(executionId, uri) {
      const file = vscode.Uri.parse(uri).fsPath;
      model.noteStarted(executionId, path.basename(file).replace(WORKFLOW_FILE, ''), file);
      void view.showRun(executionId);
    },
    loadTree,
    loadHistory,
    revealExecution: (executionId) => view.reveal(executionId),
    setModeFilter: (mode) => view.setModeFilter(mode),
    restartServer: () => client.requestRestart(true),
    selectInterpreter: () => selectInterpreter(provider !== undefined),
    showOutput: () => outputChannel.show(),
  };

  const tests = new FlowrunTestExplorer({
    logger,
    sendRequest: (method, params) => client.sendRequest(method, params),
  });

  let historyTimer: ReturnType<typeof setTimeout> | undefined;
  const reloadSoon = (): void => {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(() => {
      loadHistory().catch((error) => logger.warn(`history: ${String(error)}`));
    }, 200);
  };
  /** What each server notification does (protocol.ts `Notifications`). */
  const notifications: Record<string, (params: unknown) => void> = {
    [Notifications.executionEvent]: (params) => {
      const { executionId, patch } = params as ExecutionEventParams;
      if (patch && !model.applyPatch(executionId, patch)) {
        loadTree(executionId).catch((error) => logger.warn(`execution: ${String(error)}`));
      }
    },
    [Notifications.executionsChanged]: reloadSoon,
    [Notifications.testEvent]: (params) => tests.onEvent(params as TestEventParams),
  };
  client = new FlowrunClient({
    logger,
    resolveLaunch: () => setup.resolveLaunch(),
    createClient: languageClientFactory(outputChannel),
    onNotification: (method, params) => {
      notifications[method]?.(params);
      debugChannel.dispatch(method, params);
    },
    reportStartFailure,
  });

  const updateStatus = (): void =>
    statusBar.update(client.state, model.running().length, client.launch?.server.interpreter.path);
  let hasExecutions: boolean | undefined;
  model.onDidChange((change) => {
    updateStatus();
    if (hasExecutions !== model.all().length > 0) {
      hasExecutions = model.all().length > 0;
      void vscode.commands.executeCommand('setContext', 'flowrun:hasExecutions', hasExecutions);
    }
    notifyFailure(model, change, (id) => view.reveal(id));
  });
  client.onDidChangeState((state) => {
    updateStatus();
    void vscode.commands.executeCommand('setContext', 'flowrun:serverRunning', state === 'running');
    if (state === 'running') {
      reloadSoon();
      void tests.refreshAll();
    } else if (state === 'stopped' || state === 'needsSetup') {
      model.clear();
    }
  });

  const documents = new ExecutionDocuments(model, loadTree);
  context.subscriptions.push(
    outputChannel,
    statusBar,
    view,
    tests,
    documents,
    client,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, documents),
    ...registerCommands(host),
    ...registerDebugger(debugChannel),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (needsRestart((key) => e.affectsConfiguration(key))) {
        void client.restartIfWanted();
      }
    }),
    { dispose: () => clearTimeout(historyTimer) },
  );
  updateStatus();

  try {
    provider = await pythonExtensionProvider();
    if (provider !== undefined) {
      context.subscriptions.push(provider.onDidChange(() => void client.restartIfWanted()));
    }
  } catch (error) {
    logger.warn(
      `The Python extension did not answer: ${String(error)}; using flowrun.python or python3.`,
    );
  }
  logger.info(
    `Flowrun extension activated (flowrun.python=${currentSettings().python || 'unset'}).`,
  );
  context.subscriptions.push(await startWhenNeeded(() => void client.requestRestart()));
}

/**
 * Any YAML file activates the extension; the server (and an install offer when the
 * interpreter lacks flowrun) waits until the workspace has a workflow or one is opened.
 */
async function startWhenNeeded(start: () => void): Promise<vscode.Disposable> {
  const open = vscode.workspace.textDocuments.some((d) => WORKFLOW_FILE.test(d.fileName));
  const found = open
    ? []
    : await vscode.workspace.findFiles(WORKFLOW_GLOB, '**/node_modules/**', 1);
  if (open || found.length > 0) {
    start();
    return new vscode.Disposable(() => undefined);
  }
  const listener = vscode.workspace.onDidOpenTextDocument((doc) => {
    if (WORKFLOW_FILE.test(doc.fileName)) {
      listener.dispose();
      start();
    }
  });
  return listener;
}

export function deactivate(): void {
  // Everything is in context.subscriptions; the client stops the server on dispose.
}
