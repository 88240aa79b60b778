/**
 * Read-only documents for `flowrun:` URIs: a node's input/output (JSON), error and logs
 * (text), or a whole execution (JSON). Content comes from the model; a tree not yet known
 * is fetched from the server. Open documents update as events arrive.
 */
import * as vscode from 'vscode';
import { renderDocument } from './documentContent';
import { ExecutionModel } from './executionModel';
import { parseRef, SCHEME } from './flowrunUri';
import { TERMINAL_EXECUTION } from './protocol';

export class ExecutionDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: { dispose(): void };
  private readonly stored = new Set<string>();

  constructor(
    private readonly model: ExecutionModel,
    private readonly load: (executionId: string) => Promise<void>,
    private readonly openDocuments: () => readonly vscode.TextDocument[] = () =>
      vscode.workspace.textDocuments,
  ) {
    this.subscription = model.onDidChange((change) => this.onModelChange(change.executionId));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = parseRef(uri.path, uri.query);
    if (ref === undefined) {
      return `Flowrun cannot show ${uri.toString()}: not an execution document.\n`;
    }
    if (this.needsLoad(ref.executionId, ref.nodeId === undefined)) {
      try {
        await this.load(ref.executionId);
        if (TERMINAL_EXECUTION.has(this.model.get(ref.executionId)?.tree.status ?? '')) {
          this.stored.add(ref.executionId);
        }
      } catch (error) {
        return (
          `Flowrun could not load execution ${ref.executionId}: ${String(error)}\n` +
          'Check that the Flowrun server is running ("Flowrun: Restart Server").\n'
        );
      }
    }
    const state = this.model.get(ref.executionId);
    const text = state && renderDocument(state.tree, ref);
    if (text === undefined) {
      const what = ref.nodeId ? `node ${ref.nodeId} of execution` : 'execution';
      return `Flowrun has no ${what} ${ref.executionId} in its history (it may have been pruned).\n`;
    }
    return text;
  }

  /**
   * Node documents need the tree; the whole-execution document shows the stored tree (with
   * trigger and inputs), fetched once the execution has ended: while it runs, the live tree
   * (a fetch per event would feed back into itself through the change events).
   */
  private needsLoad(executionId: string, whole: boolean): boolean {
    const state = this.model.get(executionId);
    if (!state?.loaded) {
      return true;
    }
    return whole && TERMINAL_EXECUTION.has(state.tree.status) && !this.stored.has(executionId);
  }

  private onModelChange(executionId: string | undefined): void {
    for (const doc of this.openDocuments()) {
      if (doc.uri.scheme !== SCHEME) {
        continue;
      }
      const ref = parseRef(doc.uri.path, doc.uri.query);
      if (ref !== undefined && (executionId === undefined || ref.executionId === executionId)) {
        this.emitter.fire(doc.uri);
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
