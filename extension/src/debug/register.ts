/**
 * The `flowrun` debug type in the editor: the inline adapter on the extension's server
 * connection, the "Debug Workflow" launch configuration, the `flowrun.debugWorkflow` command
 * (the server's "⏵ Debug" CodeLens), and the `${{ }}` expressions hovers evaluate.
 */
import * as vscode from 'vscode';
import { DOCUMENT_SELECTOR, ExecuteParams, Requests, WORKFLOW_FILE } from '../protocol';
import { activeWorkflowUri, uriArgument, withAskedInputs } from '../runs';
import { FlowrunDebugSession } from './adapter';
import { expressionAt } from './expressions';
import { ServerChannel } from './serverChannel';

export const DEBUG_TYPE = 'flowrun';
export const DEBUG_WORKFLOW = 'flowrun.debugWorkflow';

export function debugConfiguration(program: string): vscode.DebugConfiguration {
  return { type: DEBUG_TYPE, request: 'launch', name: 'Debug Workflow', program };
}

export function registerDebugger(channel: ServerChannel): vscode.Disposable[] {
  const adapters: vscode.DebugAdapterDescriptorFactory = {
    createDebugAdapterDescriptor: () =>
      new vscode.DebugAdapterInlineImplementation(new FlowrunDebugSession(channel)),
  };
  const configurations: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations: () => [debugConfiguration('${file}')],
    resolveDebugConfiguration: (_folder, config) => resolveConfiguration(config),
  };
  const dynamic: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations: () => {
      const uri = activeWorkflowUri();
      return uri ? [debugConfiguration(vscode.Uri.parse(uri).fsPath)] : [];
    },
  };
  const hovers: vscode.EvaluatableExpressionProvider = {
    provideEvaluatableExpression(document, position) {
      const found = expressionAt(document.lineAt(position.line).text, position.character);
      const range = found && new vscode.Range(position.line, found.start, position.line, found.end);
      return range && new vscode.EvaluatableExpression(range, found.expression);
    },
  };
  return [
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, adapters),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, configurations),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      dynamic,
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    vscode.commands.registerCommand(DEBUG_WORKFLOW, debugWorkflow),
    vscode.languages.registerEvaluatableExpressionProvider(DOCUMENT_SELECTOR, hovers),
  ];
}

type Send = <R>(method: string, params: object) => Promise<R>;

/** The adapter's requests in the editor: a launch refused for inputs it lacks asks for them,
 * as Run Test does, and tries again (the refusal stands when the user cancels). */
export function editorRequests(send: Send): Send {
  const request = async <R>(method: string, params: object): Promise<R> => {
    try {
      return await send<R>(method, params);
    } catch (error) {
      const retry =
        method === Requests.execute
          ? await withAskedInputs(params as ExecuteParams, error)
          : undefined;
      if (retry === undefined) {
        throw error;
      }
      return request<R>(method, retry);
    }
  };
  return request;
}

/** F5 without a launch.json debugs the workflow in the editor; `program` defaults to it. */
function resolveConfiguration(
  config: vscode.DebugConfiguration,
): vscode.DebugConfiguration | undefined {
  if (!config.type && !config.request && !config.name) {
    const uri = activeWorkflowUri();
    if (uri === undefined) {
      void vscode.window.showInformationMessage('Flowrun: open a *.workflow.yml file to debug.');
      return undefined;
    }
    return debugConfiguration(vscode.Uri.parse(uri).fsPath);
  }
  return { ...config, program: config.program || '${file}' };
}

/** `flowrun.debugWorkflow {uri}`: a debug session on that file (else the active editor's). */
async function debugWorkflow(arg?: unknown): Promise<boolean> {
  const uri = uriArgument(arg) ?? activeWorkflowUri();
  const file = uri && vscode.Uri.parse(uri);
  if (!file || !WORKFLOW_FILE.test(file.path)) {
    void vscode.window.showInformationMessage('Flowrun: open a *.workflow.yml file to debug.');
    return false;
  }
  const folder = vscode.workspace.getWorkspaceFolder(file);
  return vscode.debug.startDebugging(folder, debugConfiguration(file.fsPath));
}
