/**
 * Pin files (issue 17): "Pin output" on a node in the Executions view writes
 * `.flowrun/pins/<workflow-id>/<node-id>.json` (the server's `flowrun.pinOutput`), which test
 * runs then give the node as `pin:` does; "Unpin" deletes it (`flowrun.unpin`).
 */
import * as vscode from 'vscode';
import { CommandHost, executionIdOf } from './commands';
import { PinResult, ServerCommands, UnpinResult } from './protocol';
import { nodeIdOf } from './resume';

export async function pinNode(host: CommandHost, arg: unknown): Promise<void> {
  const [nodeId, result] = await onNode<PinResult>(host, arg, ServerCommands.pinOutput);
  if (result) {
    const stale = result.stale ? ' (from an older definition of the node: stale)' : '';
    void vscode.window.showInformationMessage(`Flowrun: pinned ${nodeId}${stale}.`);
    await vscode.window.showTextDocument(vscode.Uri.file(result.path), { preview: true });
  }
}

export async function unpinNode(host: CommandHost, arg: unknown): Promise<void> {
  const [nodeId, result] = await onNode<UnpinResult>(host, arg, ServerCommands.unpin);
  if (result) {
    const said = result.removed ? `unpinned ${nodeId}` : `${nodeId} has no pin file`;
    void vscode.window.showInformationMessage(`Flowrun: ${said}.`);
  }
}

/** The server's pin command on the tree node `arg` (its execution and node id). */
async function onNode<R>(
  host: CommandHost,
  arg: unknown,
  command: string,
): Promise<[string | undefined, R | null | undefined]> {
  const executionId = executionIdOf(arg);
  const nodeId = nodeIdOf(arg);
  if (executionId === undefined || nodeId === undefined) {
    return [nodeId, undefined];
  }
  const result = await host.sendRequest<R | null>('workspace/executeCommand', {
    command,
    arguments: [{ executionId, nodeId }],
  });
  return [nodeId, result];
}
