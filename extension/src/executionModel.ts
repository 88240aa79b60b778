/**
 * The client's view of executions: summaries from `flowrun/history`, trees from
 * `flowrun/execution`, live updates from `flowrun/executionEvent`. Pure (no vscode):
 * listeners hear which execution and workflow changed so the tree refreshes only that.
 */
import {
  applyEvent,
  applySnapshot,
  emptyExecution,
  ExecutionState,
  statusRank,
} from './eventReducer';
import { EngineEvent, ExecutionSummary, ExecutionTree, TERMINAL_EXECUTION } from './protocol';

export interface ModelChange {
  /** Undefined: everything changed (history reloaded, server restarted). */
  executionId?: string;
  workflowId?: string;
  /** The execution or its workflow is new to the model: the parent level must refresh. */
  added?: boolean;
  /** The execution just reached a terminal status through an event. */
  finished?: boolean;
}

export type ModelListener = (change: ModelChange) => void;

export interface WorkflowEntry {
  workflowId: string;
  file: string;
}

export class ExecutionModel {
  private readonly states = new Map<string, ExecutionState>();
  private readonly listeners: ModelListener[] = [];

  onDidChange(listener: ModelListener): { dispose(): void } {
    this.listeners.push(listener);
    return {
      dispose: () => {
        const i = this.listeners.indexOf(listener);
        if (i >= 0) {
          this.listeners.splice(i, 1);
        }
      },
    };
  }

  private fire(change: ModelChange): void {
    for (const listener of [...this.listeners]) {
      listener(change);
    }
  }

  get(executionId: string): ExecutionState | undefined {
    return this.states.get(executionId);
  }

  /** Applies a live event. A new execution gets `workflowId`/`file` from the event when known. */
  applyEvent(executionId: string, event: EngineEvent): void {
    let state = this.states.get(executionId);
    const added = state === undefined;
    state ??= emptyExecution(executionId);
    this.states.set(executionId, state);
    const before = state.tree.status;
    const beforeWorkflow = state.tree.workflowId;
    if (!applyEvent(state, event) && !added) {
      return;
    }
    const finished = !TERMINAL_EXECUTION.has(before) && TERMINAL_EXECUTION.has(state.tree.status);
    if (beforeWorkflow !== '' && beforeWorkflow !== state.tree.workflowId) {
      this.fire({ finished });
      return;
    }
    this.fire({ executionId, workflowId: state.tree.workflowId, added, finished });
  }

  /** Records that an execution was just started by this client (before any event). */
  noteStarted(executionId: string, workflowId: string, file: string): void {
    if (this.states.has(executionId)) {
      const tree = this.states.get(executionId)!.tree;
      tree.file = tree.file || file;
      tree.workflowId = tree.workflowId || workflowId;
      return;
    }
    this.states.set(executionId, emptyExecution(executionId, workflowId, file));
    this.fire({ executionId, workflowId, added: true });
  }

  setTree(tree: ExecutionTree): void {
    const added = !this.states.has(tree.id);
    this.states.set(tree.id, applySnapshot(this.states.get(tree.id), tree));
    this.fire({ executionId: tree.id, workflowId: tree.workflowId, added });
  }

  /**
   * Replaces the known history with the server's list. Executions this client saw live and
   * that the list does not name (newer than the query, or not yet stored) are kept.
   */
  setHistory(summaries: ExecutionSummary[]): void {
    const keep = new Map<string, ExecutionState>();
    for (const summary of summaries) {
      keep.set(summary.id, this.mergeSummary(summary));
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

  private mergeSummary(summary: ExecutionSummary): ExecutionState {
    const state = this.states.get(summary.id) ?? emptyExecution(summary.id);
    const tree = state.tree;
    tree.workflowId = summary.workflowId || tree.workflowId;
    tree.file = summary.file || tree.file;
    if (statusRank(summary.status) >= statusRank(tree.status)) {
      tree.status = summary.status;
      tree.finishedAt = summary.finishedAt ?? tree.finishedAt;
      tree.durationMs = summary.durationMs ?? tree.durationMs;
      if (summary.error) {
        tree.error = { ...summary.error, ...(tree.error ?? {}) };
      }
    }
    tree.startedAt = tree.startedAt ?? summary.startedAt;
    return state;
  }

  /** Forgets everything (the server went away). */
  clear(): void {
    this.states.clear();
    this.fire({});
  }

  workflows(): WorkflowEntry[] {
    const byId = new Map<string, WorkflowEntry>();
    for (const state of this.states.values()) {
      const { workflowId, file } = state.tree;
      const id = workflowId || '(unknown workflow)';
      const entry = byId.get(id);
      if (entry === undefined || (!entry.file && file)) {
        byId.set(id, { workflowId: id, file });
      }
    }
    return [...byId.values()].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
  }

  /** Executions of one workflow, newest first. */
  executionsOf(workflowId: string): ExecutionState[] {
    return this.all().filter((s) => (s.tree.workflowId || '(unknown workflow)') === workflowId);
  }

  /** Every execution, newest first. */
  all(): ExecutionState[] {
    return [...this.states.values()].sort(newestFirst);
  }

  running(): ExecutionState[] {
    return this.all().filter((s) => !TERMINAL_EXECUTION.has(s.tree.status));
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
