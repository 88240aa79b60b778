/**
 * Starting runs from the client: `flowrun/execute`, the inputs prompt, and turning the
 * server's errors into notifications that say what to do.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Action, offer, SELECT_INTERPRETER } from './actions';
import { ServerNotReady } from './client';
import { errorData, errorMessage } from './errors';
import { workspaceFolder } from './interpreterSetup';
import {
  ExecuteParams,
  ExecuteResult,
  MissingInput,
  Requests,
  ServerCommands,
  WORKFLOW_FILE,
} from './protocol';

export interface RunHost {
  sendRequest<R>(method: string, params: object): Promise<R>;
  /** A run was accepted: show it. */
  started(executionId: string, uri: string): void;
}

/** A workflow file's URI from a command argument: a string, a Uri, `{uri}`, or the active editor. */
export function uriArgument(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.length > 0) {
    return arg;
  }
  if (arg instanceof vscode.Uri) {
    return arg.toString();
  }
  const inner = (arg as { uri?: unknown } | undefined)?.uri;
  if (inner !== undefined && inner !== arg) {
    return uriArgument(inner);
  }
  return undefined;
}

export function activeWorkflowUri(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (doc === undefined) {
    return undefined;
  }
  return WORKFLOW_FILE.test(doc.fileName) || doc.languageId === 'yaml'
    ? doc.uri.toString()
    : undefined;
}

export function fileUri(file: string): string {
  const folder = workspaceFolder();
  const absolute = path.isAbsolute(file) || folder === undefined ? file : path.join(folder, file);
  return vscode.Uri.file(absolute).toString();
}

export async function execute(host: RunHost, params: ExecuteParams): Promise<string | undefined> {
  try {
    const result = await host.sendRequest<ExecuteResult>(Requests.execute, params);
    host.started(result.executionId, params.uri);
    showChanged(result);
    return result.executionId;
  } catch (error) {
    if (error instanceof ServerNotReady) {
      throw error; // not a refused run: the command says what to do about the server
    }
    return handleRunError(host, params, error);
  }
}

/** What a "Re-run changed" reused and runs, in the status bar for a while. */
function showChanged(result: ExecuteResult): void {
  const running = Object.keys(result.run ?? {});
  const text = result.note
    ? `Flowrun: ${result.note}`
    : result.reused
      ? `Flowrun: reused ${result.reused.length} node(s), running ${running.join(', ') || 'none'}`
      : undefined;
  if (text !== undefined) {
    vscode.window.setStatusBarMessage(text, 8000);
  }
}

/** The inputs a refused run lacks, as the server names them (`data.missingInputs`). */
export function missingInputs(error: unknown): MissingInput[] {
  return errorData(error).missingInputs ?? [];
}

/** Shows a refused run; asks for missing inputs and retries when the server names them. */
export async function handleRunError(
  host: RunHost,
  params: ExecuteParams,
  error: unknown,
): Promise<string | undefined> {
  const data = errorData(error);
  const missing = missingInputs(error).filter((i) => !(i.name in (params.inputs ?? {})));
  if (missing.length > 0) {
    const retry = await withAskedInputs(params, error);
    return retry === undefined ? undefined : execute(host, retry);
  }
  const fix = FIXES[data.type ?? ''];
  const args = fix === INSTALL ? [{ uri: params.uri }] : [];
  await offer(`Flowrun: ${errorMessage(error)}`, fix && [{ ...fix, args }]);
  return undefined;
}

/** A run refused for inputs it lacks: the params with the inputs the user gave, or undefined
 * (none missing, or the user cancelled). */
export async function withAskedInputs(
  params: ExecuteParams,
  error: unknown,
): Promise<ExecuteParams | undefined> {
  const missing = missingInputs(error).filter((i) => !(i.name in (params.inputs ?? {})));
  const inputs = missing.length > 0 ? await askInputs(missing, params.inputs ?? {}) : undefined;
  return inputs === undefined ? undefined : { ...params, inputs };
}

const INSTALL = { title: 'Install Dependencies', command: ServerCommands.installDependencies };
const PROBLEMS = { title: 'Show Problems', command: 'workbench.actions.view.problems' };

/** The action that fixes a refused run, by error type (Install Dependencies: of its file). */
const FIXES: Record<string, Action> = {
  DependencyError: INSTALL,
  ValidationError: PROBLEMS,
  WorkflowInvalid: PROBLEMS,
  PythonNotFound: SELECT_INTERPRETER,
};

function jsonType(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/** What the user typed for an input: the text for a string input, else JSON of its type. */
export function parseInputValue(text: string, type?: string): { value: unknown } | string {
  if (type === undefined || type === 'string') {
    return { value: text };
  }
  const problem = `Enter ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (as JSON).`;
  try {
    const value: unknown = JSON.parse(text);
    return jsonType(value) === type ? { value } : problem;
  } catch {
    return problem;
  }
}

async function askInputs(
  missing: MissingInput[],
  given: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const inputs = { ...given };
  for (const [i, input] of missing.entries()) {
    const text = await vscode.window.showInputBox({
      title: `Flowrun: input ${input.name} (${i + 1}/${missing.length})`,
      prompt:
        input.description ??
        `Value of the workflow input "${input.name}" (${input.type ?? 'string'})`,
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parseInputValue(value, input.type);
        return typeof parsed === 'string' ? parsed : undefined;
      },
    });
    if (text === undefined) {
      return undefined;
    }
    inputs[input.name] = (parseInputValue(text, input.type) as { value: unknown }).value;
  }
  return inputs;
}
