/**
 * What each element of the Executions view shows, as plain data (pure: no vscode): label,
 * description, icon, tooltip, context value. `executionsTree.ts` turns an ItemSpec into a
 * vscode.TreeItem.
 */
import { costParts } from './costText';
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

/** The flags menus test (package.json `viewItem =~ /\bflag\b/`). */
export function executionContextValue(status: string, mode?: string): string {
  const terminal = TERMINAL_EXECUTION.has(status);
  const failed = status === 'failed' || status === 'timed_out' || status === 'stopped';
  // a paused execution runs nothing: it is a checkpoint that Resume goes on from
  const action = status === 'paused' ? 'resumable' : terminal ? 'rerunnable' : 'stoppable';
  return join(
    ' ',
    'flowrun.execution',
    status,
    action,
    failed && 'hasFailedNode',
    mode === 'production' && 'production',
  );
}

export function nodeContextValue(status: string, executionStatus: string, pinned = false): string {
  return join(
    ' ',
    'flowrun.node',
    status,
    TERMINAL_EXECUTION.has(executionStatus) && 'rerunnableFrom',
    executionStatus === 'paused' && 'resumableFrom',
    pinned && 'pinned', // Unpin (a succeeded node: Pin output)
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 60_000) {
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
  }
  const s = Math.round(ms / 1000);
  return s < 3600
    ? `${Math.floor(s / 60)} m ${s % 60} s`
    : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}

const AGO: Array<[number, string]> = [
  [86_400, 'd'],
  [3600, 'h'],
  [60, 'min'],
  [1, 's'],
];

export function formatRelative(iso: string | null | undefined, now: number): string {
  const at = iso ? Date.parse(iso) : NaN;
  const s = Math.max(0, Math.round((now - at) / 1000));
  const [size, unit] = AGO.find(([size]) => s >= size) ?? [1, 's'];
  return Number.isNaN(at) ? '' : s < 10 ? 'just now' : `${Math.floor(s / size)} ${unit} ago`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

type Part = string | false | null | undefined | 0;

/** The parts that are set, joined by `separator`. */
function join(separator: string, ...parts: Part[]): string {
  return parts.filter(Boolean).join(separator);
}

/** The parts that are set, joined by ` · ` (an item's description). */
export const dot = (...parts: Part[]): string => join(' · ', ...parts);

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
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
    tooltip: dot(file, plural(executions.length, 'execution')),
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
  const tooltip = join(
    '\n',
    `Execution ${tree.id}`,
    `Status: ${tree.status}`,
    tree.mode && `Mode: ${tree.mode}`,
    tree.worker &&
      `Worker: ${tree.worker}${(tree.attempt ?? 1) > 1 ? ` (attempt ${tree.attempt})` : ''}`,
    tree.startedAt && `Started: ${tree.startedAt}`,
    tree.finishedAt && `Finished: ${tree.finishedAt}`,
    tree.durationMs != null && `Duration: ${formatDuration(tree.durationMs)}`,
    tree.error && `Error: ${tree.error.type}: ${tree.error.message}`,
    tree.traceId && `Trace: ${tree.traceId}`,
  );
  // The editor's own runs are `test`: only the other modes are named on the line.
  const mode = tree.mode !== 'test' && tree.mode;
  // A fleet (queue workers, a shared history): which worker ran it, once there is a choice.
  const worker = tree.worker && fleetOf(model, tree.workflowId || UNKNOWN_WORKFLOW) && tree.worker;
  const attempt = (tree.attempt ?? 1) > 1 && `attempt ${tree.attempt}`;
  return {
    id: elementKey({ kind: 'execution', executionId }),
    label: shortId(tree.id),
    description: dot(
      mode,
      worker,
      tree.status,
      attempt,
      formatDuration(tree.durationMs),
      ...costParts(tree),
      formatRelative(tree.startedAt, now),
    ),
    tooltip,
    icon: statusToIcon(tree.status),
    collapsible: expand ? 'expanded' : 'collapsed',
    contextValue: executionContextValue(tree.status, tree.mode),
  };
}

/** Whether the workflow's listed executions ran on more than one worker (machine). */
function fleetOf(model: ExecutionModel, workflowId: string): boolean {
  const workers = new Set(model.executionsOf(workflowId).map((state) => state.tree.worker));
  workers.delete(undefined);
  workers.delete(null);
  return workers.size > 1;
}

function stageItem(
  model: ExecutionModel,
  element: { executionId: string; stageId: string },
): ItemSpec | undefined {
  const stage = findStage(model.get(element.executionId), element.stageId);
  if (stage === undefined) {
    return undefined;
  }
  const iterations = stage.iterations && plural(stage.iterations, 'iteration');
  return {
    id: elementKey({ kind: 'stage', ...element }),
    label: stage.id,
    description: dot(stage.status, formatDuration(stage.durationMs), iterations),
    tooltip: dot(`Stage ${stage.id}`, stage.status, iterations),
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
  const attempts = (node.attempts ?? 0) > 1 && `attempt ${node.attempts}`;
  const label = node.iteration != null ? `${node.id} #${node.iteration}` : node.id;
  const children = nodeChildren(node, element);
  const changed = state.changedNodes?.includes(node.id);
  return {
    id: elementKey(element),
    label,
    description: dot(
      node.status,
      formatDuration(node.durationMs),
      ...costParts(node),
      node.cached && '⚡ cached',
      attempts,
      node.given && 'reused',
      node.pinned && '📌 pinned',
      changed && '✎ changed',
    ),
    tooltip: join(
      '\n',
      dot(node.name, node.type && `${node.type} node`, node.status),
      changed && 'Its definition changed since this execution (↻ Re-run changed runs it).',
    ),
    icon: statusToIcon(node.status),
    collapsible: children.length === 0 ? 'none' : node.error ? 'expanded' : 'collapsed',
    contextValue: nodeContextValue(node.status, state.tree.status, Boolean(node.pinned)),
    command: {
      command: 'flowrun.revealNode',
      title: 'Reveal Node Definition',
      arguments: [{ executionId: element.executionId, nodeId: element.nodeId }],
    },
  };
}

/** The label, icon, description and tooltip of each detail of a node. */
const DETAILS: Record<DetailPart, [string, IconSpec, (node: NodeTree) => [string, string]]> = {
  input: ['Input', { id: 'arrow-right' }, (n) => [preview(n.input), preview(n.input, 2000)]],
  output: ['Output', { id: 'output' }, (n) => [preview(n.output), preview(n.output, 2000)]],
  error: [
    'Error',
    { id: 'warning', color: 'testing.iconFailed' },
    ({ error: e }) => {
      const text = e ? `${e.type}: ${e.message}` : '';
      const suggestion = e?.suggestion && `Suggestion: ${e.suggestion}`;
      return [preview(text), join('\n\n', text, suggestion, e?.traceback)];
    },
  ],
  logs: [
    'Logs',
    { id: 'list-flat' },
    ({ logs = [] }) => [
      plural(logs.length, 'line'),
      logs
        .slice(-20)
        .map((l) => l.text)
        .join('\n'),
    ],
  ],
};

function detailItem(model: ExecutionModel, element: DetailElement): ItemSpec | undefined {
  const node = findNodeIn(model, element);
  if (node === undefined) {
    return undefined;
  }
  const [label, icon, text] = DETAILS[element.part];
  const [description, tooltip] = text(node);
  const { executionId, nodeId, part, iteration, stageId: stage } = element;
  return {
    id: elementKey(element),
    label,
    description,
    tooltip,
    icon,
    collapsible: 'none',
    contextValue: `flowrun.detail ${part}`,
    openUri: formatUri({ executionId, nodeId, part, iteration, stage }),
  };
}
