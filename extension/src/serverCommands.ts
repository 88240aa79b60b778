/**
 * The server's commands (CodeLens, quick fixes, the palette), registered by the extension at
 * activation so that they exist before the server runs; the language client does not register
 * them again (languageClient.ts). Runs go through `flowrun/execute`, so a refused run comes back
 * as an error the client can act on (missing inputs, dependencies, interpreter); the others are
 * forwarded to the server as `workspace/executeCommand`.
 */
import * as vscode from 'vscode';
import { ExecuteParams, ServerCommands } from './protocol';
import { activeWorkflowUri, execute, RunHost, uriArgument } from './runs';

type Handler = (arg?: unknown) => Promise<unknown>;

/** The command's argument with the workflow file: its own `uri`, else the active editor's. */
function withUri(arg: unknown): (ExecuteParams & Record<string, unknown>) | undefined {
  const uri = uriArgument(arg) ?? activeWorkflowUri();
  if (uri === undefined) {
    void vscode.window.showInformationMessage('Flowrun: open a *.workflow.yml file first.');
    return undefined;
  }
  const given = typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) ? arg : {};
  return { ...given, uri };
}

export function serverCommands(host: RunHost): Record<string, Handler> {
  const run: Handler = async (arg) => {
    const params = withUri(arg);
    const id = params && (await execute(host, params));
    return id === undefined ? undefined : { executionId: id };
  };
  const forward =
    (command: string, needsUri: boolean): Handler =>
    async (arg) => {
      const args = needsUri ? withUri(arg) : arg;
      return args && host.sendRequest('workspace/executeCommand', { command, arguments: [args] });
    };
  return {
    [ServerCommands.runTest]: run,
    [ServerCommands.runFromNode]: run,
    [ServerCommands.stop]: forward(ServerCommands.stop, false),
    [ServerCommands.installDependencies]: forward(ServerCommands.installDependencies, true),
    [ServerCommands.addAsTest]: forward(ServerCommands.addAsTest, false),
    // stale-pin's quick fixes; their argument has the uri and the node
    [ServerCommands.pinOutput]: forward(ServerCommands.pinOutput, false),
    [ServerCommands.unpin]: forward(ServerCommands.unpin, false),
    [ServerCommands.repin]: forward(ServerCommands.repin, false),
  };
}
