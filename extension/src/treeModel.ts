/**
 * The Executions view's elements, as plain data (pure: no vscode): workflow → execution
 * (newest first) → stage → node → Input / Output / Error / Logs, their keys, children and
 * parents. `treeItems.ts` says what each shows.
 */
import { ExecutionModel, UNKNOWN_WORKFLOW } from './executionModel';
import { DetailPart } from './flowrunUri';
import { NodeTree, StageTree } from './protocol';
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

export function elementKey(e: TreeElement): string {
  switch (e.kind) {
    case 'workflow':
      return `workflow:${e.workflowId}`;
    case 'execution':
      return `execution:${e.executionId}`;
    case 'stage':
      return `stage:${e.executionId}:${e.stageId}`;
    case 'node':
      return `node:${e.executionId}:${e.stageId ?? ''}:${e.nodeId}:${e.iteration ?? ''}`;
    case 'detail':
      return `detail:${e.executionId}:${e.stageId ?? ''}:${e.nodeId}:${e.iteration ?? ''}:${e.part}`;
  }
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
      return executionChildren(model.get(element.executionId), element.executionId);
    case 'stage':
      return stageChildren(model.get(element.executionId), element);
    case 'node':
      return nodeChildren(findNodeIn(model, element), element);
    case 'detail':
      return [];
  }
}

function executionChildren(state: ExecutionState | undefined, executionId: string): TreeElement[] {
  return (state?.tree.children ?? []).map((child) =>
    child.kind === 'stage'
      ? { kind: 'stage', executionId, stageId: child.id }
      : {
          kind: 'node',
          executionId,
          stageId: null,
          nodeId: child.id,
          iteration: child.iteration ?? null,
        },
  );
}

function stageChildren(
  state: ExecutionState | undefined,
  element: { executionId: string; stageId: string },
): TreeElement[] {
  const stage = findStage(state, element.stageId);
  return (stage?.children ?? []).map((node) => ({
    kind: 'node',
    executionId: element.executionId,
    stageId: element.stageId,
    nodeId: node.id,
    iteration: node.iteration ?? null,
  }));
}

export function nodeChildren(node: NodeTree | undefined, element: NodeElement): TreeElement[] {
  if (node === undefined) {
    return [];
  }
  const parts: DetailPart[] = [];
  if (node.input !== undefined && node.input !== null) {
    parts.push('input');
  }
  if (node.status === 'succeeded' || (node.output !== undefined && node.output !== null)) {
    parts.push('output');
  }
  if (node.error) {
    parts.push('error');
  }
  if ((node.logs?.length ?? 0) > 0) {
    parts.push('logs');
  }
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
