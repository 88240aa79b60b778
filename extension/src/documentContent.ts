/** The text of a `flowrun:` document, from an execution tree (pure). */
import { findNode } from './treePatch';
import { DocumentRef } from './flowrunUri';
import { ErrorInfo, ExecutionTree, LogEntry } from './protocol';

export function renderDocument(tree: ExecutionTree, ref: DocumentRef): string | undefined {
  if (ref.nodeId === undefined || ref.part === undefined) {
    return json(tree);
  }
  const node = findNode(tree, ref.nodeId, ref.iteration ?? null, ref.stage ?? undefined);
  if (node === undefined) {
    return undefined;
  }
  switch (ref.part) {
    case 'input':
      return json(node.input ?? null);
    case 'output':
      return json(node.output ?? null);
    case 'error':
      return node.error ? renderError(node.error) : 'No error.\n';
    case 'logs':
      return renderLogs(node.logs ?? []);
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function renderError(error: ErrorInfo): string {
  const parts = [`${error.type}: ${error.message}`];
  if (error.node) {
    parts.push(`Node: ${error.node}`);
  }
  if (error.suggestion) {
    parts.push(`Suggestion: ${error.suggestion}`);
  }
  if (error.traceback) {
    parts.push(error.traceback.trimEnd());
  }
  return `${parts.join('\n\n')}\n`;
}

export function renderLogs(logs: LogEntry[]): string {
  const lines = logs.map((line) => {
    const text = (line.text ?? '').replace(/\r?\n$/, '');
    return line.stream === 'stderr' ? `[stderr] ${text}` : text;
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
