/**
 * The real LSP client: vscode-languageclient over stdio, `<python> -m flowrun lsp`.
 * `FlowrunClient` gets it through a factory, so its restart logic is tested with a fake.
 */
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import type { Launch, LspClient, LspState } from './client';
import { DOCUMENT_SELECTOR } from './protocol';

/** With FLOWRUN_LSP_DEBUGPY_PORT set (launch.json), the server waits for a debugger there. */
export function debugArgs(port: string | undefined, args: string[]): string[] {
  return port ? ['-m', 'debugpy', '--listen', `127.0.0.1:${port}`, ...args] : args;
}

function stateOf(state: State): LspState {
  switch (state) {
    case State.Running:
      return 'running';
    case State.Stopped:
      return 'stopped';
    default:
      return 'starting';
  }
}

export function languageClientFactory(
  outputChannel: vscode.LogOutputChannel,
): (launch: Launch) => LspClient {
  return (launch) => {
    // No `transport`: TransportKind.stdio would append `--stdio` to the command line.
    const serverOptions: ServerOptions = {
      command: launch.server.command,
      args: debugArgs(process.env.FLOWRUN_LSP_DEBUGPY_PORT, launch.server.args),
      options: { cwd: launch.cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel,
      synchronize: { configurationSection: 'flowrun' },
      initializationOptions: launch.options,
    };
    // Client id "flowrun": the library reads the flowrun.trace.server setting by that name.
    const client = new LanguageClient('flowrun', 'Flowrun', serverOptions, clientOptions);
    // The extension registers the server's commands at activation (serverCommands.ts), so
    // that they exist before the server runs; registering them again would fail.
    client.getFeature(ExecuteCommandRequest.method).register = () => undefined;
    return {
      start: () => client.start(),
      stop: (timeoutMs) => client.stop(timeoutMs),
      state: () => stateOf(client.state),
      sendRequest: <R>(method: string, params: object) => client.sendRequest<R>(method, params),
      onNotification: (method, handler) => client.onNotification(method, handler),
      onStateChange: (listener) => client.onDidChangeState((e) => listener(stateOf(e.newState))),
    };
  };
}
