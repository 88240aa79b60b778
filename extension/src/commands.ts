/**
 * Every command, registered at activation: the client's own (quick picks, input boxes, the
 * tree's actions) and the server's (serverCommands.ts). A command while the server is not
 * running says why, with the action that helps (client.ts `ServerNotReady`).
 */
import * as vscode from 'vscode';
import { offer } from './actions';
import { ServerNotReady } from './client';
import { ExecutionModel } from './executionModel';
import { history, pickExecution, pickFrom, pickMode, showHistory } from './executionPicks';
import { formatUri } from './flowrunUri';
import { Logger } from './logger';
import { findNodeSymbol, SymbolLike } from './nodeLocation';
import {
  AddedTest,
  ExecuteParams,
  ExecutionMode,
  ExecutionTree,
  HistoryParams,
  Requests,
  ServerCommands,
  StopResult,
} from './protocol';
import { activeWorkflowUri, execute, fileUri, RunHost, uriArgument } from './runs';
import { pinNode, unpinNode } from './pins';
import { nodeIdOf, resume } from './resume';
import { serverCommands } from './serverCommands';
import { shortId } from './treeItems';
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
  debugInEditor: 'flowrun.debugInEditor',
  filterByMode: 'flowrun.filterByMode',
  copyExecutionId: 'flowrun.copyExecutionId',
  revealNode: 'flowrun.revealNode',
  refreshExecutions: 'flowrun.refreshExecutions',
  showOutput: 'flowrun.showOutput',
  addExecutionAsTest: 'flowrun.addExecutionAsTest',
  resumeExecution: 'flowrun.resumeExecution',
  resumeFromNode: 'flowrun.resumeFromNode',
  pinNodeOutput: 'flowrun.pinNodeOutput',
  unpinNode: 'flowrun.unpinNode',
} as const;

export interface CommandHost extends RunHost {
  model: ExecutionModel;
  logger: Logger;
  loadTree(executionId: string): Promise<void>;
  loadHistory(): Promise<void>;
  revealExecution(executionId: string): Promise<void>;
  /** The Executions view shows only this mode's executions (undefined: every mode). */
  setModeFilter(mode: ExecutionMode | undefined): Promise<void>;
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
    (fn: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (error) {
        host.logger.error(String(error));
        void showError(error);
        return undefined;
      }
    };
  const rerunCommands = Object.entries(RERUNS).map(([id, how]) => [
    id,
    (arg: unknown) => rerun(host, arg, how),
  ]);
  const table: Record<string, (...args: unknown[]) => unknown> = {
    ...serverCommands(host),
    ...Object.fromEntries(rerunCommands),
    [ClientCommands.stopExecution]: (arg) => stopExecution(host, executionIdOf(arg)),
    [ClientCommands.showHistory]: () => showHistory(host, host),
    [ClientCommands.selectInterpreter]: () => host.selectInterpreter(),
    [ClientCommands.restartServer]: () => host.restartServer(),
    [ClientCommands.openExecutionJson]: (arg) => openExecutionJson(host, executionIdOf(arg)),
    [ClientCommands.runTestWithRequest]: (arg) => runTestWithRequest(host, arg),
    [ClientCommands.filterByMode]: async () => {
      const picked = await pickMode();
      return picked && host.setModeFilter(picked.mode);
    },
    [ClientCommands.copyExecutionId]: async (arg) => {
      const id = executionIdOf(arg);
      return id && vscode.env.clipboard.writeText(id);
    },
    [ClientCommands.revealNode]: (arg) =>
      revealNode(host, arg as { executionId: string; nodeId: string }),
    [ClientCommands.refreshExecutions]: () => host.loadHistory(),
    [ClientCommands.showOutput]: () => host.showOutput(),
    [ClientCommands.addExecutionAsTest]: (arg) => addAsTest(host, executionIdOf(arg)),
    [ClientCommands.resumeExecution]: (arg) => resume(host, arg),
    [ClientCommands.resumeFromNode]: (arg) => resume(host, arg, nodeIdOf(arg)),
    [ClientCommands.pinNodeOutput]: (arg) => pinNode(host, arg),
    [ClientCommands.unpinNode]: (arg) => unpinNode(host, arg),
  };
  return Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, guard(fn)));
}

function showError(error: unknown): Promise<void> {
  const message = `Flowrun: ${(error as Error).message ?? String(error)}`;
  return offer(message, error instanceof ServerNotReady ? error.actions : []);
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
  if (id !== undefined) {
    const uri = vscode.Uri.parse(formatUri({ executionId: id }));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  }
}

/**
 * A re-run of a recorded execution: the server runs its file again in test mode with the
 * execution's trigger and inputs (`fromExecution`); `params` adds what else the re-run is.
 */
interface Rerun {
  title: string;
  /** Which executions the palette offers (history filters). */
  filter?: HistoryParams;
  /** Open the workflow file first (Debug in Editor). */
  open?: boolean;
  /** The rest of the request; a string says why there is no re-run. */
  params(tree: ExecutionTree, arg: unknown): Partial<ExecuteParams> | string;
}

const RERUNS: Record<string, Rerun> = {
  [ClientCommands.rerunExecution]: { title: 'Re-run', params: () => ({}) },
  [ClientCommands.rerunFromNode]: {
    title: 'Re-run from this node',
    params: (_tree, arg) => {
      const nodeId = (arg as { nodeId?: unknown } | undefined)?.nodeId;
      return typeof nodeId === 'string'
        ? { fromNode: nodeId }
        : 'use "Re-run from this node" on a node in the Executions view';
    },
  },
  [ClientCommands.rerunFromFailed]: {
    title: 'Re-run from failed node',
    filter: { status: 'failed' },
    params: (tree) => {
      const node = failedNode(tree);
      return node ? { fromNode: node } : `execution ${shortId(tree.id)} has no failed node`;
    },
  },
  [ClientCommands.debugInEditor]: {
    title: 'Debug in Editor',
    filter: { mode: 'production' },
    open: true,
    params: () => ({}),
  },
};

async function rerun(host: CommandHost, arg: unknown, how: Rerun): Promise<void> {
  const id = executionIdOf(arg) ?? (await pickExecution(host, `Flowrun: ${how.title}`, how.filter));
  if (id === undefined) {
    return;
  }
  const tree = await treeOf(host, id);
  const params = how.params(tree, arg);
  if (typeof params === 'string') {
    void vscode.window.showInformationMessage(`Flowrun: ${params}.`);
    return;
  }
  const uri = fileUri(tree.file);
  if (how.open) {
    await vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: false });
  }
  await execute(host, { uri, fromExecution: id, ...params });
}

/** The first failed node: the one the execution's error names, else the first in tree order. */
export function failedNode(tree: ExecutionTree): string | undefined {
  if (tree.error?.node) {
    return tree.error.node;
  }
  const bad = allNodes(tree).find(([, n]) => n.status === 'failed' || n.status === 'stopped');
  return bad?.[1].id;
}

async function revealNode(
  host: CommandHost,
  arg: { executionId: string; nodeId: string },
): Promise<void> {
  const file = host.model.get(arg.executionId)?.tree.file;
  if (!file) {
    return;
  }
  const uri = vscode.Uri.parse(fileUri(file));
  const symbols = await Promise.resolve(
    vscode.commands.executeCommand<SymbolLike[] | undefined>(
      'vscode.executeDocumentSymbolProvider',
      uri,
    ),
  ).catch(() => undefined);
  const at = findNodeSymbol(symbols ?? [], arg.nodeId) ?? { line: 0, character: 0 };
  await showAt(uri, at, { preserveFocus: true, preview: true });
}

/** Add as Test: the server writes the execution as a workflow test, shown where it went. */
async function addAsTest(host: CommandHost, executionId: string | undefined): Promise<void> {
  const added =
    executionId &&
    (await host.sendRequest<AddedTest | null>('workspace/executeCommand', {
      command: ServerCommands.addAsTest,
      arguments: [{ executionId }],
    }));
  if (added && added.applied) {
    await showAt(vscode.Uri.parse(added.uri), { line: added.line, character: 0 });
  }
}

async function showAt(
  uri: vscode.Uri,
  at: { line: number; character: number },
  options: vscode.TextDocumentShowOptions = {},
): Promise<void> {
  const position = new vscode.Position(at.line, at.character);
  const selection = new vscode.Range(position, position);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
    ...options,
    selection,
  });
}

const TEMPLATE_TRIGGER = { method: 'POST', path: '/', headers: {}, query: {}, body: {} };

async function lastTrigger(host: CommandHost, uri: string): Promise<unknown> {
  const [last] = await history(host, { uri, limit: 1 });
  const trigger = last && (await treeOf(host, last.id)).trigger;
  return trigger && typeof trigger === 'object' ? trigger : undefined;
}

function jsonObjectProblem(value: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    return isObject ? undefined : 'Enter a JSON object.';
  } catch (error) {
    return `Not JSON: ${(error as Error).message}`;
  }
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
    validateInput: jsonObjectProblem,
  });
  if (text !== undefined) {
    await execute(host, { uri, trigger: JSON.parse(text) as unknown });
  }
}
