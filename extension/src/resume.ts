/**
 * Resume (issue 17): go on with a paused execution in a new one (`flowrun/resume`), the
 * completed nodes given, the rest run with the workflow file as it is now. The server says
 * which completed nodes changed since the pause; their recorded outputs are still used.
 */
import * as vscode from 'vscode';
import { CommandHost, executionIdOf } from './commands';
import { pickExecution } from './executionPicks';
import { Requests, ResumeParams, ResumeResult } from './protocol';
import { fileUri } from './runs';

/** The node id of a tree node argument, if it is one. */
export function nodeIdOf(arg: unknown): string | undefined {
  const id = (arg as { nodeId?: unknown } | undefined)?.nodeId;
  return typeof id === 'string' ? id : undefined;
}

export async function resume(
  host: CommandHost,
  arg: unknown,
  fromNode?: string,
): Promise<string | undefined> {
  const id =
    executionIdOf(arg) ??
    (await pickExecution(host, 'Flowrun: Resume Execution', { status: 'paused' }));
  if (id === undefined) {
    return undefined;
  }
  const params: ResumeParams = fromNode ? { executionId: id, fromNode } : { executionId: id };
  const result = await host.sendRequest<ResumeResult>(Requests.resume, params);
  const file = host.model.get(id)?.tree.file;
  host.started(result.executionId, file ? fileUri(file) : '');
  if (result.changed.length > 0) {
    void vscode.window.showInformationMessage(
      `Flowrun: changed since the pause, their recorded outputs used: ` +
        `${result.changed.join(', ')} (Resume from a node to run it again).`,
    );
  }
  return result.executionId;
}
