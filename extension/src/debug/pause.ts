/**
 * A paused execution as the debugger shows it: the paused node(s) as frames at their lines in
 * the workflow file, why it paused (the DAP stop reason), its state (`flowrun/debugState`), and
 * the failed node's error for the exception widget.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { findNodeSymbol, SymbolLike } from '../nodeLocation';
import { Requests } from '../protocol';
import { DebugState, PauseReason } from './protocol';
import { fileUriOf } from './breakpoints';
import { ServerChannel } from './serverChannel';

/** `error` of a paused `execution_finished`. */
export interface PauseError {
  message?: string;
  pausedAt?: string[];
  reason?: PauseReason;
}

export interface Frame {
  nodeId: string;
  /** 0-based */
  line: number;
}

const STOP_REASONS: Record<PauseReason, string> = {
  breakpoint: 'breakpoint',
  failure: 'exception',
  request: 'pause',
  step: 'step',
};

export class Pause {
  private constructor(
    readonly state: DebugState,
    readonly frames: Frame[],
    readonly error: PauseError | undefined,
  ) {}

  /** Reads the state of the paused `executionId` of `program` and where its nodes are. */
  static async of(
    channel: ServerChannel,
    executionId: string,
    program: string,
    error: PauseError | undefined,
  ): Promise<Pause> {
    const [state, symbols] = await Promise.all([
      channel.sendRequest<DebugState>(Requests.debugState, { executionId }),
      channel
        .sendRequest<SymbolLike[] | null>('textDocument/documentSymbol', {
          textDocument: { uri: fileUriOf(program) },
        })
        .catch(() => null),
    ]);
    const pausedAt = state.pausedAt ?? error?.pausedAt ?? [];
    const line = (nodeId: string) => findNodeSymbol(symbols ?? [], nodeId)?.line ?? 0;
    return new Pause(
      state,
      pausedAt.map((nodeId) => ({ nodeId, line: line(nodeId) })),
      error,
    );
  }

  /** The DAP `stopped` reason: a failure is an exception. */
  get reason(): string {
    return STOP_REASONS[this.state.reason ?? this.error?.reason ?? 'request'] ?? 'pause';
  }

  /** The node of a frame (ids count from 1). */
  nodeOf(frameId: number | undefined): string | undefined {
    return frameId === undefined ? undefined : this.frames[frameId - 1]?.nodeId;
  }

  /** The failed paused node's error, as the editor's exception widget shows it. */
  exceptionInfo(): DebugProtocol.ExceptionInfoResponse['body'] {
    const failed = this.state.nodes.find(
      (node) => node.error && this.frames.some((frame) => frame.nodeId === node.id),
    )?.error;
    return {
      exceptionId: failed?.type ?? 'Paused',
      description: failed?.message ?? this.error?.message ?? 'Paused.',
      breakMode: 'always',
      details: { message: failed?.message, stackTrace: failed?.traceback ?? undefined },
    };
  }
}
