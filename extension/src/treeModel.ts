/**
 * The Executions view's elements, as plain data (pure: no vscode): workflow → execution
 * (newest first) → stage → node → Input / Output / Error / Logs, their keys, children and
 * parents. `treeItems.ts` says what each shows.
 */
import { ExecutionModel, UNKNOWN_WORKFLOW } from './executionModel';
import { DETAIL_PARTS, DetailPart } from './flowrunUri';
import { ExecutionChild, NodeTree, StageTree } from './protocol';
import { ExecutionState, findNode } from './treePatch';

export type TreeElement =
  | { kind: 'workflow'; workflowId: string }
  | { kind: 'execution'; executionId: string }
  | { kind: 'stage'; executionId: string; stageId: string }
  | NodeElement
  | DetailElement;

export interface NodeElement {
  kind: 'node';
  executionId: string;
  stageId: string | null;
  nodeId: string;
  iteration: number | null;
}

export interface DetailElement extends Omit<NodeElement, 'kind'> {
  kind: 'detail';
  part: DetailPart;
}

const KEY_FIELDS = ['workflowId', 'executionId', 'stageId', 'nodeId', 'iteration', 'part'];

/** One string per element (its kind and fields in a fixed order). */
export function elementKey(e: TreeElement): string {
  const fields = e as unknown as Record<string, unknown>;
  return [e.kind, ...KEY_FIELDS.filter((k) => k in e).map((k) => fields[k] ?? '')].join(':');
}

export function childrenOf(model: ExecutionModel, element?: TreeElement): TreeElement[] {
  if (element === undefined) {
    return model.workflows().map((w) => ({ kind: 'workflow', workflowId: w.workflowId }));
  }
  switch (element.kind) {
    case 'workflow':
      return model
        .executionsOf(element.workflowId)
        .map((s) => ({ kind: 'execution', executionId: s.tree.id }));
    case 'execution':
      return nodesAndStages(model.get(element.executionId)?.tree.children, element.executionId);
    case 'stage': {
      const stage = findStage(model.get(element.executionId), element.stageId);
      return nodesAndStages(stage?.children, element.executionId, element.stageId);
    }
    case 'node':
      return nodeChildren(findNodeIn(model, element), element);
    case 'detail':
      return [];
  }
}

function nodesAndStages(
  children: ExecutionChild[] | undefined,
  executionId: string,
  stageId: string | null = null,
): TreeElement[] {
  return (children ?? []).map((child) =>
    child.kind === 'stage'
      ? { kind: 'stage', executionId, stageId: child.id }
      : {
          kind: 'node',
          executionId,
          stageId,
          nodeId: child.id,
          iteration: child.iteration ?? null,
        },
  );
}

export function nodeChildren(node: NodeTree | undefined, element: NodeElement): TreeElement[] {
  if (node === undefined) {
    return [];
  }
  const has = (value: unknown): boolean => value !== undefined && value !== null;
  const shown: Record<DetailPart, boolean> = {
    input: has(node.input),
    output: node.status === 'succeeded' || has(node.output),
    error: Boolean(node.error),
    logs: (node.logs?.length ?? 0) > 0,
  };
  const parts = DETAIL_PARTS.filter((part) => shown[part]);
  return parts.map((part) => ({ ...element, kind: 'detail', part }));
}

export function parentOf(model: ExecutionModel, element: TreeElement): TreeElement | undefined {
  switch (element.kind) {
    case 'workflow':
      return undefined;
    case 'execution': {
      const state = model.get(element.executionId);
      return { kind: 'workflow', workflowId: state?.tree.workflowId || UNKNOWN_WORKFLOW };
    }
    case 'stage':
      return { kind: 'execution', executionId: element.executionId };
    case 'node':
      return element.stageId === null
        ? { kind: 'execution', executionId: element.executionId }
        : { kind: 'stage', executionId: element.executionId, stageId: element.stageId };
    case 'detail': {
      const { part: _part, ...node } = element;
      return { ...node, kind: 'node' };
    }
  }
}

export function findStage(
  state: ExecutionState | undefined,
  stageId: string,
): StageTree | undefined {
  return state?.tree.children.find((c): c is StageTree => c.kind === 'stage' && c.id === stageId);
}

export function findNodeIn(
  model: ExecutionModel,
  element: Omit<NodeElement, 'kind'>,
): NodeTree | undefined {
  const tree = model.get(element.executionId)?.tree;
  return tree && findNode(tree, element.nodeId, element.iteration, element.stageId);
}
