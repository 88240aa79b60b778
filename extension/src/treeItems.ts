/**
 * What each element of the Executions view shows, as plain data (pure: no vscode): label,
 * description, icon, tooltip, context value. `executionsTree.ts` turns an ItemSpec into a
 * vscode.TreeItem.
 */
import { ExecutionModel, UNKNOWN_WORKFLOW } from './executionModel';
import { DetailPart, formatUri } from './flowrunUri';
import { NodeTree, TERMINAL_EXECUTION } from './protocol';
import {
  DetailElement,
  elementKey,
  findNodeIn,
  findStage,
  NodeElement,
  nodeChildren,
  TreeElement,
} from './treeModel';

export interface IconSpec {
  id: string;
  color?: string;
}

export type Collapsible = 'none' | 'collapsed' | 'expanded';

export interface ItemSpec {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon: IconSpec;
  collapsible: Collapsible;
  contextValue: string;
  /** A command to run on click, with plain arguments. */
  command?: { command: string; title: string; arguments: unknown[] };
  /** Open this `flowrun:` URI on click. */
  openUri?: string;
  /** The `file://` path this item stands for (shown as resource). */
  file?: string;
}

const ICONS: Record<string, IconSpec> = {
  queued: { id: 'clock' },
  pending: { id: 'circle-outline', color: 'disabledForeground' },
  running: { id: 'loading~spin' },
  paused: { id: 'debug-pause' },
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  stopped: { id: 'circle-slash', color: 'testing.iconSkipped' },
  timed_out: { id: 'watch', color: 'testing.iconFailed' },
  interrupted: { id: 'debug-disconnect', color: 'testing.iconErrored' },
  skipped: { id: 'debug-step-over', color: 'disabledForeground' },
};

/** The one place where a status becomes an icon. */
export function statusToIcon(status: string): IconSpec {
  return ICONS[status] ?? { id: 'question' };
}

export function executionContextValue(status: string): string {
  const flags = ['flowrun.execution', status];
  flags.push(TERMINAL_EXECUTION.has(status) ? 'rerunnable' : 'stoppable');
  if (status === 'failed' || status === 'timed_out' || status === 'stopped') {
    flags.push('hasFailedNode');
  }
  return flags.join(' ');
}

export function nodeContextValue(status: string, executionStatus: string): string {
  const flags = ['flowrun.node', status];
  if (TERMINAL_EXECUTION.has(executionStatus)) {
    flags.push('rerunnableFrom');
  }
  return flags.join(' ');
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = ms / 1000;
  if (s < 60) {
    return `${s.toFixed(1)} s`;
  }
  const totalS = Math.round(s);
  if (totalS < 3600) {
    return `${Math.floor(totalS / 60)} m ${totalS % 60} s`;
  }
  return `${Math.floor(totalS / 3600)} h ${Math.floor((totalS % 3600) / 60)} m`;
}

export function formatRelative(iso: string | null | undefined, now: number): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) {
    return '';
  }
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 10) {
    return 'just now';
  }
  if (s < 60) {
    return `${s} s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86_400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  return `${Math.floor(s / 86_400)} d ago`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

function join(...parts: Array<string | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== '').join(' · ');
}

function basename(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

export function preview(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function describe(
  model: ExecutionModel,
  element: TreeElement,
  now: number,
): ItemSpec | undefined {
  switch (element.kind) {
    case 'workflow':
      return workflowItem(model, element.workflowId);
    case 'execution':
      return executionItem(model, element.executionId, now);
    case 'stage':
      return stageItem(model, element);
    case 'node':
      return nodeItem(model, element);
    case 'detail':
      return detailItem(model, element);
  }
}

function workflowItem(model: ExecutionModel, workflowId: string): ItemSpec {
  const entry = model.workflows().find((w) => w.workflowId === workflowId);
  const file = entry?.file ?? '';
  const executions = model.executionsOf(workflowId);
  return {
    id: elementKey({ kind: 'workflow', workflowId }),
    label: workflowId,
    description: file ? basename(file) : undefined,
    tooltip: join(file, `${executions.length} execution${executions.length === 1 ? '' : 's'}`),
    icon: { id: 'type-hierarchy' },
    collapsible: 'expanded',
    contextValue: 'flowrun.workflow',
    file: file || undefined,
  };
}

function executionItem(
  model: ExecutionModel,
  executionId: string,
  now: number,
): ItemSpec | undefined {
  const state = model.get(executionId);
  if (state === undefined) {
    return undefined;
  }
  const tree = state.tree;
  const newest = model.executionsOf(tree.workflowId || UNKNOWN_WORKFLOW)[0]?.tree.id;
  const expand = !TERMINAL_EXECUTION.has(tree.status) || newest === executionId;
  const lines = [
    `Execution ${tree.id}`,
    `Status: ${tree.status}`,
    tree.startedAt ? `Started: ${tree.startedAt}` : undefined,
    tree.finishedAt ? `Finished: ${tree.finishedAt}` : undefined,
    tree.durationMs != null ? `Duration: ${formatDuration(tree.durationMs)}` : undefined,
    tree.error ? `Error: ${tree.error.type}: ${tree.error.message}` : undefined,
  ];
  return {
    id: elementKey({ kind: 'execution', executionId }),
    label: shortId(tree.id),
    description: join(
      tree.status,
      formatDuration(tree.durationMs),
      formatRelative(tree.startedAt, now),
    ),
    tooltip: lines.filter((l) => l !== undefined).join('\n'),
    icon: statusToIcon(tree.status),
    collapsible: expand ? 'expanded' : 'collapsed',
    contextValue: executionContextValue(tree.status),
  };
}

function stageItem(
  model: ExecutionModel,
  element: { executionId: string; stageId: string },
): ItemSpec | undefined {
  const stage = findStage(model.get(element.executionId), element.stageId);
  if (stage === undefined) {
    return undefined;
  }
  const n = stage.iterations;
  const iterations = n ? `${n} iteration${n === 1 ? '' : 's'}` : undefined;
  return {
    id: elementKey({ kind: 'stage', ...element }),
    label: stage.id,
    description: join(stage.status, formatDuration(stage.durationMs), iterations),
    tooltip: join(`Stage ${stage.id}`, stage.status, iterations),
    icon: statusToIcon(stage.status),
    collapsible: 'expanded',
    contextValue: `flowrun.stage ${stage.status}`,
  };
}

function nodeItem(model: ExecutionModel, element: NodeElement): ItemSpec | undefined {
  const node = findNodeIn(model, element);
  const state = model.get(element.executionId);
  if (node === undefined || state === undefined) {
    return undefined;
  }
  const attempts = (node.attempts ?? 0) > 1 ? `attempt ${node.attempts}` : undefined;
  const label = node.iteration != null ? `${node.id} #${node.iteration}` : node.id;
  const children = nodeChildren(node, element);
  return {
    id: elementKey(element),
    label,
    description: join(
      node.status,
      formatDuration(node.durationMs),
      attempts,
      node.given ? 'reused' : undefined,
      node.pinned ? '📌 pinned' : undefined,
    ),
    tooltip: join(node.name ?? undefined, node.type ? `${node.type} node` : undefined, node.status),
    icon: statusToIcon(node.status),
    collapsible: children.length === 0 ? 'none' : node.error ? 'expanded' : 'collapsed',
    contextValue: nodeContextValue(node.status, state.tree.status),
    command: {
      command: 'flowrun.revealNode',
      title: 'Reveal Node Definition',
      arguments: [{ executionId: element.executionId, nodeId: element.nodeId }],
    },
  };
}

const DETAIL_LABEL: Record<DetailPart, string> = {
  input: 'Input',
  output: 'Output',
  error: 'Error',
  logs: 'Logs',
};

const DETAIL_ICON: Record<DetailPart, IconSpec> = {
  input: { id: 'arrow-right' },
  output: { id: 'output' },
  error: { id: 'warning', color: 'testing.iconFailed' },
  logs: { id: 'list-flat' },
};

function detailItem(model: ExecutionModel, element: DetailElement): ItemSpec | undefined {
  const node = findNodeIn(model, element);
  if (node === undefined) {
    return undefined;
  }
  const { description, tooltip } = detailText(node, element.part);
  return {
    id: elementKey(element),
    label: DETAIL_LABEL[element.part],
    description,
    tooltip,
    icon: DETAIL_ICON[element.part],
    collapsible: 'none',
    contextValue: `flowrun.detail ${element.part}`,
    openUri: formatUri({
      executionId: element.executionId,
      nodeId: element.nodeId,
      part: element.part,
      iteration: element.iteration,
      stage: element.stageId,
    }),
  };
}

function detailText(node: NodeTree, part: DetailPart): { description: string; tooltip: string } {
  switch (part) {
    case 'input':
      return { description: preview(node.input), tooltip: preview(node.input, 2000) };
    case 'output':
      return { description: preview(node.output), tooltip: preview(node.output, 2000) };
    case 'error': {
      const e = node.error;
      const text = e ? `${e.type}: ${e.message}` : '';
      const extra = [e?.suggestion ? `Suggestion: ${e.suggestion}` : '', e?.traceback ?? ''];
      return { description: preview(text), tooltip: [text, ...extra].filter(Boolean).join('\n\n') };
    }
    case 'logs': {
      const logs = node.logs ?? [];
      return {
        description: `${logs.length} line${logs.length === 1 ? '' : 's'}`,
        tooltip: logs
          .slice(-20)
          .map((line) => line.text ?? '')
          .join('\n'),
      };
    }
  }
}
