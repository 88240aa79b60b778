/**
 * The editor's breakpoints as Flowrun's: a line maps to the node defined there (a line between
 * nodes to the next node; the server says, `flowrun/breakpointLocations`), verified on that
 * node's line; its condition and log message go with it. Lines here are 0-based.
 */
import { pathToFileURL } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorMessage } from '../errors';
import { Requests, WORKFLOW_FILE } from '../protocol';
import { BreakpointLocationsResult, NodeBreakpoint } from './protocol';
import { ServerChannel } from './serverChannel';

/** What the editor asks for at a line, and what the adapter answers (its line 0-based). */
export interface LineBreakpoint {
  line: number;
  condition?: string;
  logMessage?: string;
}

export interface MappedBreakpoint {
  verified: boolean;
  line?: number;
  message?: string;
}

const NOT_A_WORKFLOW = 'Not a workflow file (*.workflow.yml): Flowrun has no breakpoints here.';
const NO_NODE = 'No node at or after this line: a breakpoint pauses before a node.';

export function fileUriOf(file: string): string {
  return pathToFileURL(file).toString();
}

export class BreakpointMap {
  private readonly byFile = new Map<string, NodeBreakpoint[]>();

  constructor(private readonly channel: ServerChannel) {}

  /** Replaces the breakpoints of `file`; answers each one in order. */
  async set(file: string, wanted: LineBreakpoint[]): Promise<MappedBreakpoint[]> {
    this.byFile.delete(file);
    if (!WORKFLOW_FILE.test(file)) {
      return wanted.map(() => ({ verified: false, message: NOT_A_WORKFLOW }));
    }
    let found: BreakpointLocationsResult;
    try {
      found = await this.channel.sendRequest<BreakpointLocationsResult>(
        Requests.breakpointLocations,
        { uri: fileUriOf(file), lines: wanted.map((b) => b.line) },
      );
    } catch (error) {
      const message = `Flowrun could not place it: ${errorMessage(error)}`;
      return wanted.map(() => ({ verified: false, message }));
    }
    const points: NodeBreakpoint[] = [];
    const answers = wanted.map((breakpoint, i): MappedBreakpoint => {
      const location = found.locations[i];
      if (!location?.nodeId) {
        return { verified: false, message: NO_NODE };
      }
      points.push(nodeBreakpoint(location.nodeId, breakpoint));
      return { verified: true, line: location.verifiedLine ?? breakpoint.line };
    });
    this.byFile.set(file, points);
    return answers;
  }

  /** The breakpoints of `file` for `flowrun/execute` and `flowrun/resume`. */
  forFile(file: string): NodeBreakpoint[] {
    return this.byFile.get(file) ?? [];
  }
}

function nodeBreakpoint(nodeId: string, breakpoint: LineBreakpoint): NodeBreakpoint {
  const point: NodeBreakpoint = { nodeId };
  if (breakpoint.condition) {
    point.condition = breakpoint.condition;
  }
  if (breakpoint.logMessage) {
    point.logMessage = breakpoint.logMessage;
  }
  return point;
}

/** The DAP answer for one mapped breakpoint (`toClient` converts the line). */
export function dapBreakpoint(
  mapped: MappedBreakpoint,
  id: number,
  toClient: (line: number) => number,
): DebugProtocol.Breakpoint {
  const answer: DebugProtocol.Breakpoint = { id, verified: mapped.verified };
  if (mapped.line !== undefined) {
    answer.line = toClient(mapped.line);
  }
  if (mapped.message !== undefined) {
    answer.message = mapped.message;
  }
  return answer;
}
