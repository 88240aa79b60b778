/** The status-bar item: server state and the number of running executions. */
import * as vscode from 'vscode';
import { ServerState } from './client';

export interface StatusView {
  text: string;
  tooltip: string;
  command: string;
  error: boolean;
}

/** [text, tooltip, command, error] of each state; `running` with runs is counted below. */
const VIEWS: Record<ServerState, [string, string, string, boolean]> = {
  starting: ['$(sync~spin) Flowrun', 'Flowrun server starting…', 'flowrun.showOutput', false],
  needsSetup: [
    '$(warning) Flowrun',
    'Flowrun needs a Python interpreter with flowrun installed. Click to select one.',
    'flowrun.selectInterpreter',
    true,
  ],
  stopped: [
    '$(error) Flowrun',
    'The Flowrun server is not running. Click to restart it.',
    'flowrun.restartServer',
    true,
  ],
  running: ['$(zap) Flowrun', 'Flowrun server running', 'flowrunExecutions.focus', false],
};

export function statusView(state: ServerState, running: number, interpreter?: string): StatusView {
  if (state === 'running' && running > 0) {
    return {
      text: `$(loading~spin) Flowrun: ${running} running`,
      tooltip: `${running} execution${running === 1 ? '' : 's'} running. Click to stop one.`,
      command: 'flowrun.stopExecution',
      error: false,
    };
  }
  const [text, tooltip, command, error] = VIEWS[state];
  const where = interpreter && !error ? `\nPython: ${interpreter}` : '';
  return { text, tooltip: tooltip + where, command, error };
}

export class FlowrunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'flowrun.status',
    vscode.StatusBarAlignment.Left,
    10,
  );

  update(state: ServerState, running: number, interpreter?: string): void {
    const view = statusView(state, running, interpreter);
    this.item.name = 'Flowrun';
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor = view.error
      ? new vscode.ThemeColor('statusBarItem.warningBackground')
      : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
