/** The status-bar item: server state and the number of running executions. */
import * as vscode from 'vscode';
import { ServerState } from './client';

export interface StatusView {
  text: string;
  tooltip: string;
  command: string;
  error: boolean;
}

export function statusView(state: ServerState, running: number, interpreter?: string): StatusView {
  const where = interpreter ? `\nPython: ${interpreter}` : '';
  switch (state) {
    case 'starting':
      return {
        text: '$(sync~spin) Flowrun',
        tooltip: `Flowrun server starting…${where}`,
        command: 'flowrun.showOutput',
        error: false,
      };
    case 'needsSetup':
      return {
        text: '$(warning) Flowrun',
        tooltip: 'Flowrun needs a Python interpreter with flowrun installed. Click to select one.',
        command: 'flowrun.selectInterpreter',
        error: true,
      };
    case 'stopped':
      return {
        text: '$(error) Flowrun',
        tooltip: 'The Flowrun server is not running. Click to restart it.',
        command: 'flowrun.restartServer',
        error: true,
      };
    case 'running':
      if (running > 0) {
        return {
          text: `$(loading~spin) Flowrun: ${running} running`,
          tooltip: `${running} execution${running === 1 ? '' : 's'} running. Click to stop one.`,
          command: 'flowrun.stopExecution',
          error: false,
        };
      }
      return {
        text: '$(zap) Flowrun',
        tooltip: `Flowrun server running${where}`,
        command: 'flowrunExecutions.focus',
        error: false,
      };
  }
}

export class FlowrunStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem(
      'flowrun.status',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.item.name = 'Flowrun';
  }

  update(state: ServerState, running: number, interpreter?: string): void {
    const view = statusView(state, running, interpreter);
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
