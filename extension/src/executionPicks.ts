/**
 * Picking an execution: from a list (Stop, Re-run, Open as JSON) or from the whole history
 * with filters by workflow and status (Show History…).
 */
import * as vscode from 'vscode';
import { ExecutionSummary, HistoryResult, Requests } from './protocol';
import { RunHost } from './runs';
import { formatDuration, formatRelative, shortId, statusToIcon } from './treeItems';

type Host = Pick<RunHost, 'sendRequest'>;

export async function history(host: Host, params: object): Promise<ExecutionSummary[]> {
  const result = await host.sendRequest<HistoryResult>(Requests.history, params);
  return result.executions;
}

interface ExecutionPick extends vscode.QuickPickItem {
  executionId: string;
}

function pickItem(summary: ExecutionSummary, now: number): ExecutionPick {
  const icon = statusToIcon(summary.status).id.replace('~spin', '');
  return {
    label: `$(${icon}) ${summary.workflowId} · ${shortId(summary.id)}`,
    description: [
      summary.status,
      formatDuration(summary.durationMs),
      formatRelative(summary.startedAt, now),
    ]
      .filter(Boolean)
      .join(' · '),
    detail: summary.error ? `${summary.error.type}: ${summary.error.message}` : summary.file,
    executionId: summary.id,
  };
}

/** Asks which of `summaries`; says `none` when there is nothing to pick. */
export async function pickFrom(
  summaries: ExecutionSummary[],
  title: string,
  none = 'no execution matches',
): Promise<string | undefined> {
  if (summaries.length === 0) {
    void vscode.window.showInformationMessage(`Flowrun: ${none}.`);
    return undefined;
  }
  const now = Date.now();
  const items = summaries.map((s) => pickItem(s, now));
  const pick = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return pick?.executionId;
}

export async function pickExecution(
  host: Host,
  title: string,
  status?: string,
): Promise<string | undefined> {
  return pickFrom(await history(host, { limit: 200, ...(status ? { status } : {}) }), title);
}

const STATUSES = [
  'running',
  'queued',
  'paused',
  'succeeded',
  'failed',
  'stopped',
  'timed_out',
  'interrupted',
];

/** Show History…: the picked execution's id, to open in the tree. */
export async function showHistory(
  host: Host,
  shown: { loadTree(id: string): Promise<void>; revealExecution(id: string): Promise<void> },
): Promise<void> {
  const quickPick = vscode.window.createQuickPick<ExecutionPick>();
  const byWorkflow: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('type-hierarchy'),
    tooltip: 'Filter by workflow',
  };
  const byStatus: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('filter'),
    tooltip: 'Filter by status',
  };
  const filter: { workflowId?: string; status?: string } = {};
  quickPick.title = 'Flowrun: Show History…';
  quickPick.placeholder = 'Pick an execution to open it in the Executions view';
  quickPick.matchOnDescription = true;
  quickPick.matchOnDetail = true;
  quickPick.buttons = [byWorkflow, byStatus];
  const reload = async (): Promise<void> => {
    quickPick.busy = true;
    try {
      const summaries = await history(host, { ...filter, limit: 200 });
      const now = Date.now();
      quickPick.items = summaries.map((s) => pickItem(s, now));
      const shown = [filter.workflowId, filter.status].filter(Boolean).join(', ');
      quickPick.title = `Flowrun: Show History…${shown ? ` (${shown})` : ''}`;
    } finally {
      quickPick.busy = false;
    }
  };
  const picked = new Promise<string | undefined>((resolve) => {
    quickPick.onDidAccept(() => {
      resolve(quickPick.selectedItems[0]?.executionId);
      quickPick.hide();
    });
    quickPick.onDidHide(() => resolve(undefined));
    quickPick.onDidTriggerButton(async (button) => {
      const names =
        button === byStatus
          ? STATUSES
          : [...new Set((await history(host, { limit: 1000 })).map((s) => s.workflowId))].sort();
      const choice = await vscode.window.showQuickPick(['(all)', ...names], {
        title: button === byStatus ? 'Filter by status' : 'Filter by workflow',
      });
      quickPick.show();
      if (choice !== undefined) {
        const value = choice === '(all)' ? undefined : choice;
        if (button === byStatus) {
          filter.status = value;
        } else {
          filter.workflowId = value;
        }
        await reload();
      }
    });
  });
  quickPick.show();
  await reload();
  const executionId = await picked;
  quickPick.dispose();
  if (executionId !== undefined) {
    await shown.loadTree(executionId);
    await shown.revealExecution(executionId);
  }
}
