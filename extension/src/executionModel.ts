/**
 * The client's view of executions: summaries from `flowrun/history`, trees from
 * `flowrun/execution`, patches from `flowrun/executionEvent`. Pure (no vscode): listeners
 * hear which execution and workflow changed so the tree refreshes only that.
 */
import {
  ExecutionMode,
  ExecutionSummary,
  ExecutionTree,
  TERMINAL_EXECUTION,
  TreePatch,
} from './protocol';
import { applyPatch, emptyExecution, ExecutionState } from './treePatch';

export interface ModelChange {
  /** Undefined: everything changed (history reloaded, server restarted). */
  executionId?: string;
  workflowId?: string;
  /** The execution or its workflow is new to the model: the parent level must refresh. */
  added?: boolean;
  /** The execution just reached a terminal status through a patch. */
  finished?: boolean;
}

export type ModelListener = (change: ModelChange) => void;

export interface WorkflowEntry {
  workflowId: string;
  file: string;
}

export const UNKNOWN_WORKFLOW = '(unknown workflow)';

export class ExecutionModel {
  private readonly states = new Map<string, ExecutionState>();
  private readonly listeners = new Set<ModelListener>();
  /** Only executions of this mode are shown (the history the server sends is filtered too). */
  modeFilter: ExecutionMode | undefined;

  onDidChange(listener: ModelListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(change: ModelChange): void {
    this.listeners.forEach((listener) => listener(change));
  }

  get(executionId: string): ExecutionState | undefined {
    return this.states.get(executionId);
  }

  /**
   * Applies a live patch. Returns false when the tree must be fetched again (the patch
   * names a part the client does not have).
   */
  applyPatch(executionId: string, patch: TreePatch): boolean {
    const known = this.states.get(executionId);
    const state = known ?? emptyExecution(executionId);
    this.states.set(executionId, state);
    const { status, workflowId } = state.tree;
    const applied = applyPatch(state, patch);
    const finished = !TERMINAL_EXECUTION.has(status) && TERMINAL_EXECUTION.has(state.tree.status);
    if (workflowId !== '' && workflowId !== state.tree.workflowId) {
      this.fire({ finished });
    } else {
      const added = known === undefined;
      this.fire({ executionId, workflowId: state.tree.workflowId, added, finished });
    }
    return applied;
  }

  /** Records that an execution was just started by this client (before any event). */
  noteStarted(executionId: string, workflowId: string, file: string): void {
    const known = this.states.get(executionId)?.tree;
    if (known !== undefined) {
      known.file ||= file;
      known.workflowId ||= workflowId;
      return;
    }
    this.states.set(executionId, emptyExecution(executionId, workflowId, file));
    this.fire({ executionId, workflowId, added: true });
  }

  /** A tree fetched from the server: it replaces what the client had. */
  setTree(tree: ExecutionTree): void {
    const known = this.states.get(tree.id);
    const changedNodes = known?.changedNodes;
    this.states.set(tree.id, { tree: structuredClone(tree), loaded: true, changedNodes });
    this.fire({ executionId: tree.id, workflowId: tree.workflowId, added: known === undefined });
  }

  /**
   * Replaces the known history with the server's list. Executions this client saw live and
   * that the list does not name (newer than the query, or not yet stored) are kept; a
   * tree whose status the list contradicts is fetched again when next shown.
   */
  setHistory(summaries: ExecutionSummary[]): void {
    const keep = new Map<string, ExecutionState>();
    for (const summary of summaries) {
      keep.set(summary.id, this.withSummary(summary));
    }
    for (const [id, state] of this.states) {
      if (!keep.has(id) && !TERMINAL_EXECUTION.has(state.tree.status)) {
        keep.set(id, state);
      }
    }
    this.states.clear();
    for (const [id, state] of keep) {
      this.states.set(id, state);
    }
    this.fire({});
  }

  private withSummary(summary: ExecutionSummary): ExecutionState {
    const state = this.states.get(summary.id);
    const { trigger: _trigger, error, changedNodes, ...header } = summary;
    if (state?.loaded && state.tree.status === summary.status) {
      return { ...state, changedNodes };
    }
    const tree: ExecutionTree = { ...(state?.tree ?? { children: [] }), ...header };
    const summarized = error && { type: error.type ?? 'Error', message: error.message ?? '' };
    tree.error = summarized ? { ...summarized, ...(state?.tree.error ?? {}) } : null;
    return { tree, loaded: false, changedNodes };
  }

  /** Forgets everything (the server went away). */
  clear(): void {
    this.states.clear();
    this.fire({});
  }

  workflows(): WorkflowEntry[] {
    const byId = new Map<string, WorkflowEntry>();
    for (const { tree } of this.shown()) {
      const id = tree.workflowId || UNKNOWN_WORKFLOW;
      if (!byId.get(id)?.file) {
        byId.set(id, { workflowId: id, file: tree.file });
      }
    }
    return [...byId.values()].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
  }

  /** Shown executions of one workflow, newest first. */
  executionsOf(workflowId: string): ExecutionState[] {
    return this.shown().filter((s) => (s.tree.workflowId || UNKNOWN_WORKFLOW) === workflowId);
  }

  /** Every execution, newest first. */
  all(): ExecutionState[] {
    return [...this.states.values()].sort(newestFirst);
  }

  /** The executions the view shows: those of the filtered mode (and those of a mode not yet known). */
  shown(): ExecutionState[] {
    const mode = this.modeFilter;
    return this.all().filter((s) => mode === undefined || (s.tree.mode ?? mode) === mode);
  }

  /** Queued or running: what the status bar counts and Stop offers (a paused execution runs
   * nothing; a debug session leaves one behind at each stop). */
  running(): ExecutionState[] {
    return this.all().filter((s) => s.tree.status === 'queued' || s.tree.status === 'running');
  }
}

function startedMs(state: ExecutionState): number {
  const at = state.tree.startedAt;
  const ms = at ? Date.parse(at) : NaN;
  // Not started yet (queued, just created): it is the newest.
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

function newestFirst(a: ExecutionState, b: ExecutionState): number {
  const d = startedMs(b) - startedMs(a);
  return d !== 0 ? d : b.tree.id.localeCompare(a.tree.id);
}
