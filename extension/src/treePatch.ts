/**
 * Server tree patches → the client's execution tree (pure: no I/O, no vscode).
 *
 * The server folds events into the design §7 tree (history/tree_patches.py); the client
 * only replaces the execution, stage or node a patch carries, by key, keeping the log lines
 * it already has for each node (patches carry no logs) and appending those of a `logs`
 * patch. A patch naming a part this tree lacks means the tree must be fetched again.
 */
import { ExecutionChild, ExecutionTree, LogEntry, NodeTree, TreePatch } from './protocol';

export interface ExecutionState {
  tree: ExecutionTree;
  /** True once the full tree is known (fetched, or from an `execution` patch). */
  loaded: boolean;
  /** The nodes changed since this execution, when it is its file's last success (from the
   * history's summary: the tree does not carry it). */
  changedNodes?: string[];
}

export function emptyExecution(executionId: string, workflowId = '', file = ''): ExecutionState {
  return {
    tree: { id: executionId, workflowId, file, status: 'queued', children: [] },
    loaded: false,
  };
}

/** A node's key: its stage (the node's own field, else the stage it is in), id and iteration. */
function keyOf(node: NodeTree, stage: string | null): string {
  return JSON.stringify([node.stage ?? stage, node.id, node.iteration ?? null]);
}

/** Every node of a tree with its stage id (null for workflows without stages). */
export function allNodes(tree: { children: ExecutionChild[] }): Array<[string | null, NodeTree]> {
  return tree.children.flatMap((child): Array<[string | null, NodeTree]> =>
    child.kind === 'node' ? [[null, child]] : child.children.map((n) => [child.id, n]),
  );
}

export function findNode(
  tree: ExecutionTree,
  nodeId: string,
  iteration: number | null = null,
  stageId?: string | null,
): NodeTree | undefined {
  for (const child of tree.children) {
    const stage = child.kind === 'stage' ? child.id : null;
    for (const n of child.kind === 'stage' ? child.children : [child]) {
      const sameStage = stageId === undefined || stage === stageId;
      if (n.id === nodeId && (n.iteration ?? null) === iteration && sameStage) {
        return n;
      }
    }
  }
  return undefined;
}

/** Gives each node of `next` the logs its namesake in `previous` had. */
function keepLogs(next: ExecutionChild[], previous: ExecutionChild[]): void {
  const logs = new Map<string, LogEntry[]>();
  for (const [stage, node] of allNodes({ children: previous })) {
    logs.set(keyOf(node, stage), node.logs ?? []);
  }
  for (const [stage, node] of allNodes({ children: next })) {
    node.logs = logs.get(keyOf(node, stage)) ?? [];
  }
}

/** Applies a patch in place; false when it names a part the tree lacks (fetch the tree). */
export function applyPatch(state: ExecutionState, patch: TreePatch): boolean {
  if (patch.execution !== undefined) {
    const next = structuredClone(patch.execution);
    keepLogs(next.children, state.tree.children);
    state.tree = next;
    state.loaded = true;
    return true;
  }
  const children = state.tree.children;
  if (patch.stage !== undefined) {
    const at = children.findIndex((c) => c.kind === 'stage' && c.id === patch.stage!.id);
    if (!state.loaded || at < 0) {
      return false;
    }
    const next = structuredClone(patch.stage);
    keepLogs([next], [children[at]]);
    children[at] = next;
    return true;
  }
  if (patch.node !== undefined) {
    return state.loaded && replaceNode(children, patch.node);
  }
  if (patch.logs !== undefined) {
    const { stage, node, iteration, lines } = patch.logs;
    const found = state.loaded ? findNode(state.tree, node, iteration, stage) : undefined;
    if (found === undefined) {
      return false;
    }
    (found.logs ??= []).push(...lines);
  }
  return true;
}

function replaceNode(children: ExecutionChild[], patch: NodeTree): boolean {
  const key = keyOf(patch, null);
  for (const list of [children, ...children.map((c) => (c.kind === 'stage' ? c.children : []))]) {
    const at = list.findIndex((c) => c.kind === 'node' && keyOf(c, null) === key);
    if (at >= 0) {
      list[at] = { ...structuredClone(patch), logs: (list[at] as NodeTree).logs ?? [] };
      return true;
    }
  }
  return false;
}
