/**
 * Read-only documents for `flowrun:` URIs: a node's input/output (JSON), error and logs
 * (text), or a whole execution (JSON). Content comes from the model; a tree not yet known
 * is fetched from the server. Open documents update as events arrive.
 */
import * as vscode from 'vscode';
import { renderDocument } from './documentContent';
import { ExecutionModel } from './executionModel';
import { parseRef, SCHEME } from './flowrunUri';

export class ExecutionDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: { dispose(): void };

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
    if (!this.model.get(ref.executionId)?.loaded) {
      try {
        await this.load(ref.executionId);
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
