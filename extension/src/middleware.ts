/**
 * Client middleware for the server's commands: from the palette they get the active
 * workflow file; runs go through `flowrun/execute` so a refused run comes back as an error
 * the client can act on (missing inputs, dependencies, interpreter).
 */
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { ExecuteParams, ServerCommands } from './protocol';
import { activeWorkflowUri, execute, RunHost, uriArgument } from './runs';

const RUN_COMMANDS = new Set<string>([ServerCommands.runTest, ServerCommands.runFromNode]);
const URI_COMMANDS = new Set<string>([...RUN_COMMANDS, ServerCommands.installDependencies]);

export function commandMiddleware(host: RunHost): Middleware {
  return {
    executeCommand: async (command, args, next) => {
      let argv = args;
      if (URI_COMMANDS.has(command) && uriArgument(args[0]) === undefined) {
        const uri = activeWorkflowUri();
        if (uri === undefined) {
          void vscode.window.showInformationMessage('Flowrun: open a *.workflow.yml file first.');
          return undefined;
        }
        argv = [{ ...((args[0] as object | undefined) ?? {}), uri }];
      }
      if (RUN_COMMANDS.has(command)) {
        const params = argv[0] as ExecuteParams;
        const id = await execute(host, { ...params, uri: uriArgument(params)! });
        return id === undefined ? undefined : { executionId: id };
      }
      return next(command, argv);
    },
  };
}
