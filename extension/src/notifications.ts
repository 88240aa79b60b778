/** Notifications: a failed run ("Show Error"), a server that did not start. */
import * as vscode from 'vscode';
import { offer, SELECT_INTERPRETER, SHOW_OUTPUT } from './actions';
import { failedNode } from './commands';
import type { Launch } from './client';
import { ExecutionModel, ModelChange } from './executionModel';
import { formatUri } from './flowrunUri';
import { allNodes } from './treePatch';

const FAILED = new Set(['failed', 'timed_out', 'interrupted']);

export function notifyFailure(
  model: ExecutionModel,
  change: ModelChange,
  reveal: (executionId: string) => Promise<void>,
): void {
  if (!change.finished || change.executionId === undefined) {
    return;
  }
  const state = model.get(change.executionId);
  if (state === undefined || !FAILED.has(state.tree.status)) {
    return;
  }
  const tree = state.tree;
  const reason = tree.error ? `${tree.error.type}: ${tree.error.message}` : tree.status;
  void vscode.window
    .showErrorMessage(
      `Flowrun: ${tree.workflowId || 'workflow'} ${tree.status.replace('_', ' ')} — ${reason}`,
      'Show Error',
    )
    .then(async (choice) => {
      if (choice === undefined) {
        return;
      }
      const nodeId = failedNode(tree);
      const node = allNodes(tree).find(([, n]) => n.id === nodeId && n.error);
      const uri = node
        ? formatUri({
            executionId: tree.id,
            nodeId: node[1].id,
            part: 'error',
            iteration: node[1].iteration ?? null,
            stage: node[0],
          })
        : formatUri({ executionId: tree.id });
      await reveal(tree.id);
      await vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: true });
    });
}

export function reportStartFailure(launch: Launch): void {
  void offer(
    `Flowrun: the server (${launch.server.command} -m flowrun lsp) did not start. ` +
      'See the Flowrun output for its log, fix the interpreter and restart.',
    [SHOW_OUTPUT, SELECT_INTERPRETER],
  );
}
