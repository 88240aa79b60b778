/**
 * The `flowrun` debug adapter (issue 17): a DAP session over the Flowrun language server.
 * Launch runs the workflow with the editor's breakpoints (`flowrun/execute`); breakpoints
 * changed while it runs go to it (`flowrun/setBreakpoints`). A paused execution is the stop
 * (its nodes the frames, its state the variables, `flowrun/evaluate` the console and hovers); Continue, Step Over and Restart Node resume it in a new execution
 * (`flowrun/resume`) that the session follows. One thread: the workflow.
 */
import * as path from 'node:path';
import {
  DebugSession,
  InitializedEvent,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorMessage } from '../errors';
import {
  EngineEvent,
  ErrorInfo,
  ExecuteParams,
  ExecuteResult,
  Requests,
  ResumeParams,
  ResumeResult,
  WORKFLOW_FILE,
} from '../protocol';
import { EvaluateResult, SetBreakpointsParams } from './protocol';
import { BreakpointMap, dapBreakpoint, fileUriOf } from './breakpoints';
import { ExecutionChain } from './chain';
import { Pause, PauseError } from './pause';
import { ServerChannel } from './serverChannel';
import { stateScopes, VariableTree } from './variables';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The workflow file. */
  program: string;
  inputs?: Record<string, unknown>;
  trigger?: unknown;
  pauseOnFailure?: boolean;
}

const THREAD_ID = 1;

const LOG_CATEGORIES: Record<string, string> = { stdout: 'stdout', stderr: 'stderr' };

type RunState = 'starting' | 'running' | 'paused' | 'ended';

export class FlowrunDebugSession extends DebugSession {
  private readonly breakpoints: BreakpointMap;
  private readonly chain: ExecutionChain;
  private readonly variables = new VariableTree();
  private configured!: () => void;
  private readonly configuration = new Promise<void>((resolve) => (this.configured = resolve));
  private program = '';
  private pauseOnFailure = false;
  private state: RunState = 'starting';
  private pause: Pause | undefined;
  private nextBreakpointId = 1;
  private terminated = false;

  constructor(private readonly channel: ServerChannel) {
    super();
    this.setDebuggerLinesStartAt1(false);
    this.setDebuggerColumnsStartAt1(false);
    this.breakpoints = new BreakpointMap(channel);
    this.chain = new ExecutionChain(channel, (event) => {
      this.onEngineEvent(event).catch((error) => this.console(`Flowrun: ${errorMessage(error)}`));
    });
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsRestartFrame: true,
      supportsTerminateRequest: true,
      supportsExceptionInfoRequest: true,
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(
    response: DebugProtocol.ConfigurationDoneResponse,
  ): void {
    this.configured();
    this.sendResponse(response);
  }

  protected override async setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): Promise<void> {
    const file = args.source.path ? path.resolve(args.source.path) : '';
    const wanted = (args.breakpoints ?? []).map((b) => ({
      line: this.convertClientLineToDebugger(b.line),
      condition: b.condition,
      logMessage: b.logMessage,
    }));
    const mapped = await this.breakpoints.set(file, wanted);
    const executionId = this.chain.current;
    if (this.state === 'running' && executionId !== undefined && file === this.program) {
      // a run going on pauses by them before its next node, not only after the next resume
      const params: SetBreakpointsParams = {
        executionId,
        breakpoints: this.breakpoints.forFile(file),
      };
      await this.request(Requests.setBreakpoints, params);
    }
    response.body = {
      breakpoints: mapped.map((m) =>
        dapBreakpoint(m, this.nextBreakpointId++, (l) => this.convertDebuggerLineToClient(l)),
      ),
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: LaunchArguments,
  ): Promise<void> {
    // the editor's breakpoints first: they come before configurationDone (which every
    // client sends, since the adapter says it supports it), however long the server takes
    await this.configuration;
    this.program = path.resolve(args.program ?? '');
    this.pauseOnFailure = args.pauseOnFailure ?? true; // a debugger stops on failures
    const params: ExecuteParams = {
      uri: fileUriOf(this.program),
      breakpoints: this.breakpoints.forFile(this.program),
      pauseOnFailure: this.pauseOnFailure,
    };
    if (args.inputs !== undefined) {
      params.inputs = args.inputs;
    }
    if (args.trigger !== undefined) {
      params.trigger = args.trigger;
    }
    try {
      const id = await this.chain.start(async () => {
        const result = await this.channel.sendRequest<ExecuteResult>(Requests.execute, params);
        this.state = 'running';
        return result.executionId;
      });
      this.console(`Flowrun: debugging ${path.basename(this.program)} (execution ${id}).`);
      this.sendResponse(response);
    } catch (error) {
      this.sendErrorResponse(response, { id: 1, format: errorMessage(error), showUser: true });
    }
  }

  /** One thread: the workflow, with the execution it is at (each resume is a new one). */
  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const workflow = path.basename(this.program).replace(WORKFLOW_FILE, '') || 'workflow';
    const at = this.chain.current ? ` · ${this.chain.current.slice(0, 8)}` : '';
    response.body = { threads: [new Thread(THREAD_ID, `${workflow}${at}`)] };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    const source = new Source(path.basename(this.program), this.program);
    const frames = (this.pause?.frames ?? []).map(
      (frame, i) =>
        new StackFrame(i + 1, frame.nodeId, source, this.convertDebuggerLineToClient(frame.line)),
    );
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse): void {
    const scopes = this.pause ? stateScopes(this.pause.state) : [];
    response.body = {
      scopes: scopes.map(([name, value]) => {
        const container = typeof value === 'object' && value !== null ? value : { value };
        return new Scope(name, this.variables.ref(container), false);
      }),
    };
    this.sendResponse(response);
  }

  protected override variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): void {
    response.body = { variables: this.variables.children(args.variablesReference) };
    this.sendResponse(response);
  }

  protected override async evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): Promise<void> {
    const executionId = this.chain.current;
    if (this.state !== 'paused' || executionId === undefined) {
      this.fail(response, 'Flowrun evaluates expressions while the execution is paused.', false);
      return;
    }
    const nodeId = this.pause?.nodeOf(args.frameId);
    try {
      const result = await this.channel.sendRequest<EvaluateResult>(Requests.evaluate, {
        executionId,
        expression: args.expression,
        ...(nodeId ? { nodeId } : {}),
      });
      response.body = {
        result: result.display,
        variablesReference: this.variables.ref(result.value),
      };
      this.sendResponse(response);
    } catch (error) {
      this.fail(response, errorMessage(error), false);
    }
  }

  /** A pause on a failure: the failed node's error, as the editor's exception widget shows it. */
  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    if (this.pause) {
      response.body = this.pause.exceptionInfo();
    }
    this.sendResponse(response);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    response.body = { allThreadsContinued: true };
    return this.resume(response, {});
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): Promise<void> {
    return this.resume(response, { step: true });
  }

  protected override restartFrameRequest(
    response: DebugProtocol.RestartFrameResponse,
    args: DebugProtocol.RestartFrameArguments,
  ): Promise<void> {
    const nodeId = this.pause?.nodeOf(args.frameId);
    return this.resume(response, nodeId ? { fromNode: nodeId } : {});
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    const executionId = this.chain.current;
    if (this.state === 'running' && executionId !== undefined) {
      await this.request(Requests.pause, { executionId });
    }
    this.sendResponse(response);
  }

  /** Stop: a running execution is stopped, and its end (`stopped`) ends the session. */
  protected override async terminateRequest(
    response: DebugProtocol.TerminateResponse,
  ): Promise<void> {
    const stopping = await this.stopRun();
    this.sendResponse(response);
    if (!stopping) {
      this.end();
    }
  }

  protected override async disconnectRequest(
    response: DebugProtocol.DisconnectResponse,
  ): Promise<void> {
    await this.stopRun();
    this.state = 'ended';
    this.chain.dispose();
    this.sendResponse(response);
    this.shutdown();
  }

  /** Continue, Step Over, Restart Node: a new execution from the paused one's checkpoint. */
  private async resume(response: DebugProtocol.Response, extra: Partial<ResumeParams>) {
    const executionId = this.chain.current;
    if (this.state !== 'paused' || executionId === undefined) {
      this.fail(response, 'The execution is not paused.');
      return;
    }
    const params: ResumeParams = {
      executionId,
      breakpoints: this.breakpoints.forFile(this.program),
      pauseOnFailure: this.pauseOnFailure,
      ...extra,
    };
    try {
      let changed: string[] = [];
      await this.chain.start(async () => {
        const result = await this.channel.sendRequest<ResumeResult>(Requests.resume, params);
        this.state = 'running';
        this.pause = undefined;
        changed = result.changed;
        return result.executionId;
      });
      if (changed.length > 0) {
        this.console(
          `Flowrun: changed since the pause, their recorded outputs used: ${changed.join(', ')}` +
            ' (Restart Node on one of them runs it again).',
        );
      }
      this.sendResponse(response);
    } catch (error) {
      this.fail(response, errorMessage(error));
    }
  }

  private async onEngineEvent(event: EngineEvent): Promise<void> {
    if (this.state === 'ended') {
      return;
    }
    if (event.event === 'node_log') {
      this.nodeLog(event);
    } else if (event.event === 'node_finished' && event.status === 'failed') {
      const message = (event.error as ErrorInfo | null)?.message ?? 'failed';
      this.sendEvent(new OutputEvent(`[${String(event.node)}] failed: ${message}\n`, 'stderr'));
    } else if (event.event === 'execution_finished') {
      await this.finished(String(event.status), (event.error as PauseError | null) ?? undefined);
    }
  }

  private nodeLog(event: EngineEvent): void {
    const text = String(event.text ?? '');
    const line = `[${String(event.node)}] ${text}${text.endsWith('\n') ? '' : '\n'}`;
    this.sendEvent(new OutputEvent(line, LOG_CATEGORIES[String(event.stream)] ?? 'console'));
  }

  private async finished(status: string, error: PauseError | undefined): Promise<void> {
    if (status !== 'paused') {
      const why = error?.message ? `: ${error.message}` : '';
      this.console(`Flowrun: execution ${this.chain.current} ${status}${why}`);
      this.end();
      return;
    }
    this.state = 'paused';
    this.variables.reset();
    this.pause = await Pause.of(this.channel, this.chain.current!, this.program, error);
    const stopped = new StoppedEvent(this.pause.reason, THREAD_ID, error?.message);
    (stopped as DebugProtocol.StoppedEvent).body.description = error?.message;
    this.sendEvent(stopped);
  }

  /** Stops a running execution (true: its end is still to come); a paused one stays paused
   * (Resume in the Executions view). */
  private async stopRun(): Promise<boolean> {
    const executionId = this.chain.current;
    if (this.state === 'running' && executionId !== undefined) {
      return this.request(Requests.stop, { executionId });
    }
    if (this.state === 'paused') {
      this.console(`Flowrun: execution ${executionId} stays paused (Resume it from Executions).`);
    }
    return false;
  }

  private end(): void {
    this.state = 'ended';
    if (!this.terminated) {
      this.terminated = true;
      this.sendEvent(new TerminatedEvent());
    }
  }

  /** A request whose failure is only worth a line in the console; false when it failed. */
  private async request(method: string, params: object): Promise<boolean> {
    try {
      await this.channel.sendRequest(method, params);
      return true;
    } catch (error) {
      this.console(`Flowrun: ${errorMessage(error)}`);
      return false;
    }
  }

  private console(text: string): void {
    this.sendEvent(new OutputEvent(`${text}\n`, 'console'));
  }

  /** An error answer; `showUser` false where the editor shows it in place (console, hover). */
  private fail(response: DebugProtocol.Response, message: string, showUser = true): void {
    this.sendErrorResponse(response, { id: 2, format: message, showUser });
  }
}
