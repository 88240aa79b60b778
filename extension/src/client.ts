/**
 * The server's lifecycle in the extension: start, coalesced restarts that happen only when
 * the launch (interpreter, settings) changes or when forced, and the state the UI shows.
 * The LSP client itself comes from a factory (languageClient.ts), so tests pass a fake.
 */
import { isDeepStrictEqual } from 'node:util';
import * as vscode from 'vscode';
import { Action, SELECT_INTERPRETER, SHOW_OUTPUT } from './actions';
import { Coalescer } from './coalesce';
import { Logger } from './logger';
import { Notifications } from './protocol';
import { ServerLaunch } from './python';
import { ServerOptions as FlowrunServerOptions } from './settings';

export type ServerState = 'starting' | 'running' | 'stopped' | 'needsSetup';

/** How long a request waits for a server that is starting. */
const START_WAIT_MS = 30_000;

/** A request while the server is not running: why, and the commands that help. */
export class ServerNotReady extends Error {
  constructor(
    message: string,
    readonly actions: Action[],
  ) {
    super(message);
  }
}

const STOPPED: [string, Action[]] = [
  'The Flowrun server is not running (it starts when a *.workflow.yml file is open).',
  [{ title: 'Start Server', command: 'flowrun.restartServer' }, SHOW_OUTPUT],
];
const NOT_READY: Record<ServerState, [string, Action[]]> = {
  starting: ['The Flowrun server is still starting.', [SHOW_OUTPUT]],
  needsSetup: [
    'The Flowrun server needs a Python interpreter with flowrun installed.',
    [SELECT_INTERPRETER],
  ],
  stopped: STOPPED,
  running: STOPPED, // the state says running but the client just went away
};

function notReady(state: ServerState): ServerNotReady {
  return new ServerNotReady(...NOT_READY[state]);
}

export type LspState = 'starting' | 'running' | 'stopped';

export interface Launch {
  server: ServerLaunch;
  options: FlowrunServerOptions;
  cwd?: string;
}

/** What FlowrunClient needs of vscode-languageclient's LanguageClient. */
export interface LspClient {
  start(): Promise<void>;
  stop(timeoutMs?: number): Promise<void>;
  state(): LspState;
  sendRequest<R>(method: string, params: object): Promise<R>;
  onNotification(method: string, handler: (params: unknown) => void): unknown;
  onStateChange(listener: (state: LspState) => void): unknown;
}

export interface ClientDeps {
  logger: Logger;
  /** Resolves how to start the server; undefined when it cannot start yet (setup needed). */
  resolveLaunch(): Promise<Launch | undefined>;
  createClient(launch: Launch): LspClient;
  onNotification(method: string, params: unknown): void;
  /** Tells the user the server did not start (with actions). */
  reportStartFailure(launch: Launch, error: unknown): void;
}

export class FlowrunClient implements vscode.Disposable {
  private client: LspClient | undefined;
  private current: Launch | undefined;
  private force = false;
  private readonly restarts: Coalescer;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  state: ServerState = 'stopped';

  constructor(private readonly deps: ClientDeps) {
    this.restarts = new Coalescer(() => this.restartOnce());
  }

  private wanted = false;

  /** Starts or restarts the server; `force` restarts even when nothing changed. */
  requestRestart(force = false): Promise<void> {
    this.wanted = true;
    this.force ||= force;
    return this.restarts.request();
  }

  /** For setting and interpreter changes: restarts only a server that was asked for. */
  async restartIfWanted(): Promise<void> {
    if (this.wanted) {
      await this.requestRestart();
    }
  }

  get launch(): Launch | undefined {
    return this.current;
  }

  isRunning(): boolean {
    return this.client?.state() === 'running';
  }

  /** Waits for a server that is starting; says why when there is none. */
  async sendRequest<R>(method: string, params: object): Promise<R> {
    if (this.state === 'starting') {
      await this.leftStarting(START_WAIT_MS);
    }
    if (this.client === undefined || !this.isRunning()) {
      throw notReady(this.state);
    }
    return this.client.sendRequest<R>(method, params);
  }

  private leftStarting(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const listener = this.onDidChangeState((state) => state !== 'starting' && done());
      function done(): void {
        clearTimeout(timer);
        listener.dispose();
        resolve();
      }
    });
  }

  private setState(state: ServerState): void {
    if (state !== this.state) {
      this.state = state;
      this.stateEmitter.fire(state);
    }
  }

  private async restartOnce(): Promise<void> {
    const force = this.force;
    this.force = false;
    const next = await this.deps.resolveLaunch();
    if (!force && this.isRunning() && isDeepStrictEqual(next, this.current)) {
      this.deps.logger.debug('Server launch unchanged: no restart.');
      return;
    }
    await this.stopClient();
    this.current = next;
    if (next === undefined) {
      this.setState('needsSetup');
      return;
    }
    await this.startClient(next);
  }

  private async startClient(launch: Launch): Promise<void> {
    const { server } = launch;
    this.deps.logger.info(
      `Starting ${server.command} ${server.args.join(' ')} ` +
        `(interpreter ${server.interpreter.path} from ${server.interpreter.source})`,
    );
    this.setState('starting');
    const client = this.deps.createClient(launch);
    for (const method of Object.values(Notifications)) {
      client.onNotification(method, (params: unknown) => this.deps.onNotification(method, params));
    }
    // The client library restarts a crashed server by itself: follow its state.
    client.onStateChange((state) => {
      if (this.client === client) {
        this.setState(state);
      }
    });
    this.client = client;
    try {
      await client.start();
      this.setState('running');
    } catch (error) {
      this.deps.logger.error(`The Flowrun server did not start: ${String(error)}`);
      this.setState('stopped');
      this.deps.reportStartFailure(launch, error);
    }
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      await client.stop(5000);
    } catch (error) {
      this.deps.logger.warn(`Stopping the server: ${String(error)}`);
    }
    this.setState('stopped');
  }

  async dispose(): Promise<void> {
    await this.stopClient();
    this.stateEmitter.dispose();
  }
}
