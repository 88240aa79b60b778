/**
 * The debugger's part of the protocol (issue 17; lsp/debug_protocol.py): breakpoints as the
 * engine takes them, a paused execution's state, evaluation and breakpoint locations.
 */

import type { ErrorInfo, ExecutionStatus, NodeStatus } from '../protocol';

/** Pause before `nodeId` (when `condition`, a `${{ }}` expression, holds); with `logMessage`
 * a logpoint: no pause, the message is logged (node_log stream `logpoint`). */
export interface NodeBreakpoint {
  nodeId: string;
  condition?: string;
  logMessage?: string;
}

/** `flowrun/setBreakpoints`: a running execution's breakpoints, the full list (it replaces
 * theirs); its nodes not started yet pause by them. */
export interface SetBreakpointsParams {
  executionId: string;
  breakpoints: NodeBreakpoint[];
}

/** Why a paused execution paused (`error.reason` of its `execution_finished`). */
export type PauseReason = 'breakpoint' | 'failure' | 'request' | 'step';

export interface DebugNode {
  id: string;
  status: NodeStatus;
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo | null;
  iteration?: number | null;
}

/** `flowrun/debugState`: what a paused execution's expressions see (secrets masked). */
export interface DebugState {
  executionId: string;
  status: ExecutionStatus;
  reason?: PauseReason | null;
  pausedAt?: string[];
  inputs?: unknown;
  trigger?: unknown;
  env?: Record<string, unknown>;
  secrets?: Record<string, string>;
  loop?: unknown;
  nodes: DebugNode[];
}

export interface EvaluateParams {
  executionId: string;
  expression: string;
  /** The frame's node: `loop.iteration` is its iteration (default: the node it paused at). */
  nodeId?: string;
}

export interface EvaluateResult {
  value: unknown;
  display: string;
}

/** 0-based lines of a file where breakpoints are set. */
export interface BreakpointLocationsParams {
  uri: string;
  lines: number[];
}

/** Each line's node (the next node for a line between nodes) and that node's line. */
export interface BreakpointLocation {
  line: number;
  nodeId: string | null;
  verifiedLine: number | null;
}

export interface BreakpointLocationsResult {
  locations: BreakpointLocation[];
}
