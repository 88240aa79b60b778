/** Composition only: build the parts, wire them together, start the server. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FlowrunClient } from './client';
import { CommandHost, registerCommands } from './commands';
import { ExecutionModel } from './executionModel';
import { ExecutionsTreeProvider } from './executionsTree';
import { SCHEME } from './flowrunUri';
import { currentSettings, InterpreterSetup, selectInterpreter } from './interpreterSetup';
import {
  ExecutionEventParams,
  ExecutionTree,
  HistoryResult,
  Notifications,
  Requests,
} from './protocol';
import { PythonExtensionProvider, pythonExtensionProvider } from './pythonProvider';
import { ExecutionDocuments } from './jsonDocuments';
import { createLogger } from './logger';
import { languageClientFactory } from './languageClient';
import { notifyFailure, reportStartFailure } from './notifications';
import { needsRestart } from './settings';
import { FlowrunStatusBar } from './statusBar';

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

  const loadTree = async (executionId: string): Promise<void> => {
    model.setTree(await client.sendRequest<ExecutionTree>(Requests.execution, { executionId }));
  };
  const loadHistory = async (): Promise<void> => {
    const result = await client.sendRequest<HistoryResult>(Requests.history, {
      limit: HISTORY_LIMIT,
    });
    model.setHistory(result.executions);
  };

  const tree = new ExecutionsTreeProvider(model, loadTree);
  const treeView = vscode.window.createTreeView('flowrunExecutions', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  // Relative start times ("3 min ago") age: redraw while the view is visible.
  const clock = setInterval(() => {
    if (treeView.visible) {
      tree.refresh();
    }
  }, 60_000);
  const revealExecution = async (executionId: string): Promise<void> => {
    tree.flush();
    const element = tree.intern({ kind: 'execution', executionId });
    try {
      await treeView.reveal(element, { select: true, focus: false, expand: true });
    } catch (error) {
      logger.debug(`reveal ${executionId}: ${String(error)}`);
    }
  };

  const host: CommandHost = {
    model,
    logger,
    sendRequest: (method, params) => client.sendRequest(method, params),
    started(executionId, uri) {
      const file = vscode.Uri.parse(uri).fsPath;
      model.noteStarted(executionId, path.basename(file).replace(/\.workflow\.ya?ml$/, ''), file);
      void revealExecution(executionId);
    },
    loadTree,
    loadHistory,
    revealExecution,
    restartServer: () => client.requestRestart(true),
    selectInterpreter: () => selectInterpreter(provider !== undefined),
    showOutput: () => outputChannel.show(),
  };

  client = new FlowrunClient({
    logger,
    resolveLaunch: () => setup.resolveLaunch(),
    createClient: languageClientFactory(outputChannel),
    onNotification: (method, params) => onNotification(method, params),
    reportStartFailure: (launch) => reportStartFailure(launch, outputChannel),
  });

  let historyTimer: ReturnType<typeof setTimeout> | undefined;
  const reloadSoon = (): void => {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(() => {
      loadHistory().catch((error) => logger.warn(`history: ${String(error)}`));
    }, 200);
  };
  function onNotification(method: string, params: unknown): void {
    if (method === Notifications.executionEvent) {
      const { executionId, patch } = params as ExecutionEventParams;
      if (patch && !model.applyPatch(executionId, patch)) {
        loadTree(executionId).catch((error) => logger.warn(`execution: ${String(error)}`));
      }
    } else if (method === Notifications.executionsChanged) {
      reloadSoon();
    }
  }

  const updateStatus = (): void =>
    statusBar.update(client.state, model.running().length, client.launch?.server.interpreter.path);
  let hasExecutions: boolean | undefined;
  model.onDidChange((change) => {
    updateStatus();
    if (hasExecutions !== model.all().length > 0) {
      hasExecutions = model.all().length > 0;
      void vscode.commands.executeCommand('setContext', 'flowrun:hasExecutions', hasExecutions);
    }
    notifyFailure(model, change, revealExecution);
  });
  client.onDidChangeState((state) => {
    updateStatus();
    void vscode.commands.executeCommand('setContext', 'flowrun:serverRunning', state === 'running');
    if (state === 'running') {
      reloadSoon();
    } else if (state === 'stopped' || state === 'needsSetup') {
      model.clear();
    }
  });

  const documents = new ExecutionDocuments(model, loadTree);
  context.subscriptions.push(
    outputChannel,
    statusBar,
    tree,
    treeView,
    documents,
    client,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, documents),
    ...registerCommands(host),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (needsRestart((key) => e.affectsConfiguration(key))) {
        void client.restartIfWanted();
      }
    }),
    { dispose: () => clearTimeout(historyTimer) },
    { dispose: () => clearInterval(clock) },
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

const WORKFLOW_FILE = /\.workflow\.ya?ml$/;

/**
 * Any YAML file activates the extension; the server (and an install offer when the
 * interpreter lacks flowrun) waits until the workspace has a workflow or one is opened.
 */
async function startWhenNeeded(start: () => void): Promise<vscode.Disposable> {
  const open = vscode.workspace.textDocuments.some((d) => WORKFLOW_FILE.test(d.fileName));
  const found = open
    ? []
    : await vscode.workspace.findFiles('**/*.workflow.{yml,yaml}', '**/node_modules/**', 1);
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
