/**
 * A paused execution's state as the Variables view shows it: one scope per name the
 * expressions know (`nodes`, `inputs`, `trigger`, `env`, `secrets`, `loop`), every object and
 * array an expandable tree. References live until the next stop (`reset`).
 */
import { Handles } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugNode, DebugState } from './protocol';

const PREVIEW_CHARS = 80;

/** The scopes of a paused execution, in the order the view lists them (the first opens). */
export function stateScopes(state: DebugState): Array<[string, unknown]> {
  const scopes: Array<[string, unknown]> = [
    ['nodes', completedNodes(state.nodes)],
    ['inputs', state.inputs ?? {}],
    ['trigger', state.trigger ?? {}],
    ['env', state.env ?? {}],
    ['secrets', state.secrets ?? {}],
  ];
  return state.loop == null ? scopes : [...scopes, ['loop', state.loop]];
}

/** Each node that ran (or is running) by id: its status, output, input, and error if any. */
export function completedNodes(nodes: DebugNode[]): Record<string, unknown> {
  const shown = nodes.filter((node) => node.status !== 'pending');
  return Object.fromEntries(
    shown.map((node) => {
      const fields: Record<string, unknown> = {
        status: node.status,
        output: node.output ?? null,
        input: node.input ?? null,
      };
      if (node.error) {
        fields.error = node.error;
      }
      if (node.iteration != null) {
        fields.iteration = node.iteration;
      }
      return [node.id, fields];
    }),
  );
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/** A JSON value in one line: strings quoted, objects and arrays previewed and cut. */
export function display(value: unknown, room = PREVIEW_CHARS): string {
  if (!isContainer(value)) {
    return value === undefined ? 'undefined' : JSON.stringify(value);
  }
  const entries = Array.isArray(value)
    ? value.map((item) => preview(item))
    : Object.entries(value).map(([key, item]) => `${key}: ${preview(item)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  let text = '';
  for (const [i, entry] of entries.entries()) {
    const next = text ? `${text}, ${entry}` : entry;
    if (next.length > room) {
      return `${open}${text}${i > 0 ? ', ' : ''}…${close}`;
    }
    text = next;
  }
  return `${open}${text}${close}`;
}

/** A value inside a preview: nested containers only hinted at. */
function preview(value: unknown): string {
  if (Array.isArray(value)) {
    return value.length ? `Array(${value.length})` : '[]';
  }
  return isContainer(value) ? (Object.keys(value).length ? '{…}' : '{}') : display(value);
}

export class VariableTree {
  private readonly handles = new Handles<Container>();

  /** A new stop: the earlier references are gone. */
  reset(): void {
    this.handles.reset();
  }

  /** The reference that expands `value` (0 for a value without children). */
  ref(value: unknown): number {
    return isContainer(value) ? this.handles.create(value) : 0;
  }

  variable(name: string, value: unknown): DebugProtocol.Variable {
    return { name, value: display(value), variablesReference: this.ref(value) };
  }

  children(reference: number): DebugProtocol.Variable[] {
    const value = this.handles.get(reference);
    if (Array.isArray(value)) {
      return value.map((item, i) => this.variable(`[${i}]`, item));
    }
    return value ? Object.entries(value).map(([key, item]) => this.variable(key, item)) : [];
  }
}
