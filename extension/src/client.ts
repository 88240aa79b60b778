/**
 * The LanguageClient over stdio: `<python> -m flowrun lsp`. Restarts are coalesced and
 * happen only when the server launch (interpreter, settings) changes, or when forced.
 */
import { isDeepStrictEqual } from 'node:util';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { Coalescer } from './coalesce';
import { Logger } from './logger';
import { Notifications } from './protocol';
import { ServerLaunch } from './python';
import { ServerOptions as FlowrunServerOptions } from './settings';

export type ServerState = 'starting' | 'running' | 'stopped' | 'needsSetup';

export interface Launch {
  server: ServerLaunch;
  options: FlowrunServerOptions;
  cwd?: string;
}

export interface ClientDeps {
  logger: Logger;
  outputChannel: vscode.LogOutputChannel;
  /** Resolves how to start the server; undefined when it cannot start yet (setup needed). */
  resolveLaunch(): Promise<Launch | undefined>;
  middleware: Middleware;
  onNotification(method: string, params: unknown): void;
}

export const DOCUMENT_SELECTOR = [
  { scheme: 'file', pattern: '**/*.workflow.{yml,yaml}' },
  { scheme: 'untitled', language: 'yaml' },
];

/** With FLOWRUN_LSP_DEBUGPY_PORT set (launch.json), the server waits for a debugger there. */
export function debugArgs(port: string | undefined, args: string[]): string[] {
  return port ? ['-m', 'debugpy', '--listen', `127.0.0.1:${port}`, ...args] : args;
}

export class FlowrunClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private current: Launch | undefined;
  private force = false;
  private readonly restarts: Coalescer;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  state: ServerState = 'stopped';

  constructor(private readonly deps: ClientDeps) {
    this.restarts = new Coalescer(() => this.restartOnce());
  }

  /** Starts or restarts the server; `force` restarts even when nothing changed. */
  requestRestart(force = false): Promise<void> {
    this.force ||= force;
    return this.restarts.request();
  }

  get launch(): Launch | undefined {
    return this.current;
  }

  isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  async sendRequest<R>(method: string, params: object): Promise<R> {
    if (this.client === undefined || !this.isRunning()) {
      throw new Error(
        'The Flowrun server is not running. Run "Flowrun: Restart Server" or check the Flowrun output.',
      );
    }
    return this.client.sendRequest<R>(method, params);
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.stateEmitter.fire(state);
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
    const { logger } = this.deps;
    logger.info(
      `Starting ${launch.server.command} ${launch.server.args.join(' ')} ` +
        `(interpreter ${launch.server.interpreter.path} from ${launch.server.interpreter.source})`,
    );
    this.setState('starting');
    // No `transport`: TransportKind.stdio would append `--stdio` to the command line.
    const serverOptions: ServerOptions = {
      command: launch.server.command,
      args: debugArgs(process.env.FLOWRUN_LSP_DEBUGPY_PORT, launch.server.args),
      options: { cwd: launch.cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.deps.outputChannel,
      synchronize: { configurationSection: 'flowrun' },
      initializationOptions: launch.options,
      middleware: this.deps.middleware,
    };
    const client = new LanguageClient('flowrun', 'Flowrun', serverOptions, clientOptions);
    for (const method of Object.values(Notifications)) {
      client.onNotification(method, (params: unknown) => this.deps.onNotification(method, params));
    }
    client.onDidChangeState((e) => {
      if (this.client !== client) {
        return;
      }
      // The client library restarts a crashed server by itself: follow its state.
      if (e.newState === State.Stopped) {
        this.setState('stopped');
      } else if (e.newState === State.Running && this.state !== 'running') {
        this.setState('running');
      }
    });
    this.client = client;
    try {
      await client.start();
      if (this.state !== 'running') {
        this.setState('running');
      }
    } catch (error) {
      logger.error(`The Flowrun server did not start: ${String(error)}`);
      this.setState('stopped');
      void vscode.window
        .showErrorMessage(
          `Flowrun: the server (${launch.server.command} -m flowrun lsp) did not start. ` +
            'See the Flowrun output for its log, fix the interpreter and restart.',
          'Show Output',
          'Select Python Interpreter',
        )
        .then((choice) => {
          if (choice === 'Show Output') {
            this.deps.outputChannel.show();
          } else if (choice === 'Select Python Interpreter') {
            void vscode.commands.executeCommand('flowrun.selectInterpreter');
          }
        });
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
