/** A message with buttons, each of which runs a command: what to do about a problem. */
import * as vscode from 'vscode';

export interface Action {
  title: string;
  command: string;
  args?: unknown[];
}

export const SHOW_OUTPUT: Action = { title: 'Show Output', command: 'flowrun.showOutput' };
export const SELECT_INTERPRETER: Action = {
  title: 'Select Python Interpreter',
  command: 'flowrun.selectInterpreter',
};

/** Shows `message` as an error with the `actions`; runs the one the user picks. */
export async function offer(message: string, actions: readonly Action[] = []): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, ...actions.map((a) => a.title));
  const action = actions.find((a) => a.title === choice);
  if (action !== undefined) {
    await vscode.commands.executeCommand(action.command, ...(action.args ?? []));
  }
}
