/**
 * Every command, registered at activation: the client's own (quick picks, input boxes, the
 * tree) and the server's (serverCommands.ts). A command that needs the server while it is not
 * running says why, with the action that helps (client.ts `ServerNotReady`).
 */
import * as vscode from 'vscode';
import { ExecutionModel } from './executionModel';
import { formatUri } from './flowrunUri';
import { Logger } from './logger';
import { findNodeSymbol, SymbolLike } from './nodeLocation';
import { ExecutionTree, Requests, StopResult } from './protocol';
import { ServerNotReady } from './client';
import { activeWorkflowUri, execute, fileUri, RunHost, uriArgument } from './runs';
import { serverCommands } from './serverCommands';
import { history, pickExecution, pickFrom, showHistory } from './executionPicks';
import { shortId } from './treeItems';
import { TreeElement } from './treeModel';
import { allNodes } from './treePatch';

export const ClientCommands = {
  stopExecution: 'flowrun.stopExecution',
  showHistory: 'flowrun.showHistory',
  selectInterpreter: 'flowrun.selectInterpreter',
  restartServer: 'flowrun.restartServer',
  openExecutionJson: 'flowrun.openExecutionJson',
  runTestWithRequest: 'flowrun.runTestWithRequest',
  rerunExecution: 'flowrun.rerunExecution',
  rerunFromNode: 'flowrun.rerunFromNode',
  rerunFromFailed: 'flowrun.rerunFromFailed',
  copyExecutionId: 'flowrun.copyExecutionId',
  revealNode: 'flowrun.revealNode',
  refreshExecutions: 'flowrun.refreshExecutions',
  showOutput: 'flowrun.showOutput',
} as const;

export interface CommandHost extends RunHost {
  model: ExecutionModel;
  logger: Logger;
  loadTree(executionId: string): Promise<void>;
  loadHistory(): Promise<void>;
  revealExecution(executionId: string): Promise<void>;
  restartServer(): Promise<void>;
  selectInterpreter(): Promise<void>;
  showOutput(): void;
}

/** The execution id of a command argument: a tree element, `{executionId}` or a string. */
export function executionIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') {
    return arg;
  }
  const id = (arg as { executionId?: unknown } | undefined)?.executionId;
  return typeof id === 'string' ? id : undefined;
}

export function registerCommands(host: CommandHost): vscode.Disposable[] {
  const guard =
    (fn: (...args: unknown[]) => Promise<unknown> | unknown) =>
    async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (error) {
        host.logger.error(String(error));
        void showError(error);
        return undefined;
      }
    };
  const table: Record<string, (...args: unknown[]) => unknown> = {
    ...serverCommands(host),
    [ClientCommands.stopExecution]: (arg) => stopExecution(host, executionIdOf(arg)),
    [ClientCommands.showHistory]: () => showHistory(host, host),
    [ClientCommands.selectInterpreter]: () => host.selectInterpreter(),
    [ClientCommands.restartServer]: () => host.restartServer(),
    [ClientCommands.openExecutionJson]: (arg) => openExecutionJson(host, executionIdOf(arg)),
    [ClientCommands.runTestWithRequest]: (arg) => runTestWithRequest(host, arg),
    [ClientCommands.rerunExecution]: (arg) => rerun(host, executionIdOf(arg)),
    [ClientCommands.rerunFromNode]: (arg) => rerunFromNode(host, arg as TreeElement),
    [ClientCommands.rerunFromFailed]: (arg) => rerunFromFailed(host, executionIdOf(arg)),
    [ClientCommands.copyExecutionId]: (arg) => copyExecutionId(executionIdOf(arg)),
    [ClientCommands.revealNode]: (arg) =>
      revealNode(host, arg as { executionId: string; nodeId: string }),
    [ClientCommands.refreshExecutions]: () => host.loadHistory(),
    [ClientCommands.showOutput]: () => host.showOutput(),
  };
  return Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, guard(fn)));
}

async function showError(error: unknown): Promise<void> {
  const message = `Flowrun: ${(error as Error).message ?? String(error)}`;
  const actions = error instanceof ServerNotReady ? error.actions : [];
  const choice = await vscode.window.showErrorMessage(message, ...actions.map((a) => a.title));
  const action = actions.find((a) => a.title === choice);
  if (action !== undefined) {
    await vscode.commands.executeCommand(action.command);
  }
}

async function stopExecution(host: CommandHost, executionId: string | undefined): Promise<void> {
  const running = host.model.running().map((s) => ({ ...s.tree, trigger: null }));
  const id =
    executionId ?? (await pickFrom(running, 'Flowrun: Stop Execution…', 'no execution is running'));
  if (id === undefined) {
    return;
  }
  const result = await host.sendRequest<StopResult>(Requests.stop, { executionId: id });
  if (!result.stopped) {
    void vscode.window.showInformationMessage(`Flowrun: execution ${shortId(id)} is not running.`);
  }
}

/** The stored tree (with the trigger and inputs that live events do not carry). */
async function treeOf(host: CommandHost, executionId: string): Promise<ExecutionTree> {
  await host.loadTree(executionId);
  const state = host.model.get(executionId);
  if (state === undefined) {
    throw new Error(`execution ${executionId} is not in the history.`);
  }
  return state.tree;
}

async function openExecutionJson(
  host: CommandHost,
  executionId: string | undefined,
): Promise<void> {
  const id = executionId ?? (await pickExecution(host, 'Flowrun: Open Execution as JSON'));
  if (id === undefined) {
    return;
  }
  const doc = await vscode.workspace.openTextDocument(
    vscode.Uri.parse(formatUri({ executionId: id })),
  );
  await vscode.window.showTextDocument(doc, { preview: true });
}

async function rerun(host: CommandHost, executionId: string | undefined): Promise<void> {
  const id = executionId ?? (await pickExecution(host, 'Flowrun: Re-run'));
  if (id === undefined) {
    return;
  }
  const tree = await treeOf(host, id);
  await execute(host, { uri: fileUri(tree.file), ...runContext(tree) });
}

function runContext(tree: ExecutionTree): { inputs?: Record<string, unknown>; trigger?: unknown } {
  const context: { inputs?: Record<string, unknown>; trigger?: unknown } = {};
  if (tree.inputs && typeof tree.inputs === 'object') {
    context.inputs = tree.inputs as Record<string, unknown>;
  }
  if (tree.trigger && typeof tree.trigger === 'object') {
    context.trigger = tree.trigger;
  }
  return context;
}

async function rerunFromNode(host: CommandHost, element: TreeElement | undefined): Promise<void> {
  if (element === undefined || (element.kind !== 'node' && element.kind !== 'detail')) {
    void vscode.window.showInformationMessage(
      'Flowrun: use "Re-run from this node" on a node in the Flowrun Executions view.',
    );
    return;
  }
  const tree = await treeOf(host, element.executionId);
  await execute(host, {
    uri: fileUri(tree.file),
    ...runContext(tree),
    fromExecution: tree.id,
    fromNode: element.nodeId,
  });
}

/** The first failed node: the one the execution's error names, else the first in tree order. */
export function failedNode(tree: ExecutionTree): string | undefined {
  if (tree.error?.node) {
    return tree.error.node;
  }
  const bad = allNodes(tree).find(([, n]) => n.status === 'failed' || n.status === 'stopped');
  return bad?.[1].id;
}

async function rerunFromFailed(host: CommandHost, executionId: string | undefined): Promise<void> {
  const id =
    executionId ?? (await pickExecution(host, 'Flowrun: Re-run from failed node', 'failed'));
  if (id === undefined) {
    return;
  }
  const tree = await treeOf(host, id);
  const node = failedNode(tree);
  if (node === undefined) {
    void vscode.window.showInformationMessage(
      `Flowrun: execution ${shortId(id)} has no failed node.`,
    );
    return;
  }
  await execute(host, {
    uri: fileUri(tree.file),
    ...runContext(tree),
    fromExecution: id,
    fromNode: node,
  });
}

async function copyExecutionId(executionId: string | undefined): Promise<void> {
  if (executionId !== undefined) {
    await vscode.env.clipboard.writeText(executionId);
  }
}

async function revealNode(
  host: CommandHost,
  arg: { executionId: string; nodeId: string },
): Promise<void> {
  const state = host.model.get(arg.executionId);
  if (!state?.tree.file) {
    return;
  }
  const uri = vscode.Uri.parse(fileUri(state.tree.file));
  const doc = await vscode.workspace.openTextDocument(uri);
  let at: { line: number; character: number } | undefined;
  try {
    const symbols = await vscode.commands.executeCommand<SymbolLike[] | undefined>(
      'vscode.executeDocumentSymbolProvider',
      uri,
    );
    at = findNodeSymbol(symbols ?? [], arg.nodeId);
  } catch {
    at = undefined;
  }
  const position = new vscode.Position(at?.line ?? 0, at?.character ?? 0);
  await vscode.window.showTextDocument(doc, {
    selection: new vscode.Range(position, position),
    preserveFocus: true,
    preview: true,
  });
}

const TEMPLATE_TRIGGER = { method: 'POST', path: '/', headers: {}, query: {}, body: {} };

async function lastTrigger(host: CommandHost, uri: string): Promise<unknown> {
  const [last] = await history(host, { uri, limit: 1 });
  if (last === undefined) {
    return undefined;
  }
  const tree = await treeOf(host, last.id);
  return tree.trigger && typeof tree.trigger === 'object' ? tree.trigger : undefined;
}

async function runTestWithRequest(host: CommandHost, arg: unknown): Promise<void> {
  const uri = uriArgument(arg) ?? activeWorkflowUri();
  if (uri === undefined) {
    void vscode.window.showInformationMessage('Flowrun: open a *.workflow.yml file to run it.');
    return;
  }
  const given = (arg as { trigger?: unknown } | undefined)?.trigger;
  const sample = given ?? (await lastTrigger(host, uri).catch(() => undefined)) ?? TEMPLATE_TRIGGER;
  const text = await vscode.window.showInputBox({
    title: 'Flowrun: Run Test with Request…',
    prompt: 'The request as JSON: {method, path, headers, query, body}',
    value: JSON.stringify(sample),
    ignoreFocusOut: true,
    validateInput: (value) => {
      try {
        const parsed: unknown = JSON.parse(value);
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? undefined
          : 'Enter a JSON object.';
      } catch (error) {
        return `Not JSON: ${(error as Error).message}`;
      }
    },
  });
  if (text === undefined) {
    return;
  }
  await execute(host, { uri, trigger: JSON.parse(text) as unknown });
}
