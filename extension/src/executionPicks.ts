/**
 * Picking an execution: from a list (Stop, Re-run, Open as JSON) or from the whole history
 * with filters by workflow, status and mode (Show History…); picking the mode the Executions
 * view shows.
 */
import * as vscode from 'vscode';
import {
  EXECUTION_MODES,
  EXECUTION_STATUSES,
  ExecutionMode,
  ExecutionSummary,
  HistoryParams,
  HistoryResult,
  Requests,
} from './protocol';
import { RunHost } from './runs';
import { dot, formatDuration, formatRelative, shortId, statusToIcon } from './treeItems';

type Host = Pick<RunHost, 'sendRequest'>;

export async function history(host: Host, params: HistoryParams): Promise<ExecutionSummary[]> {
  return (await host.sendRequest<HistoryResult>(Requests.history, params)).executions;
}

interface ExecutionPick extends vscode.QuickPickItem {
  executionId: string;
}

function pickItem(summary: ExecutionSummary, now: number): ExecutionPick {
  const icon = statusToIcon(summary.status).id.replace('~spin', '');
  const mode = summary.mode === 'test' ? undefined : summary.mode;
  const when = formatRelative(summary.startedAt, now);
  return {
    label: `$(${icon}) ${summary.workflowId} · ${shortId(summary.id)}`,
    description: dot(mode, summary.status, formatDuration(summary.durationMs), when),
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
  const items = summaries.map((s) => pickItem(s, Date.now()));
  return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true }))
    ?.executionId;
}

export async function pickExecution(
  host: Host,
  title: string,
  filter: HistoryParams = {},
): Promise<string | undefined> {
  return pickFrom(await history(host, { limit: 200, ...filter }), title);
}

/** The mode the Executions view shows; undefined when the user cancelled. */
export async function pickMode(): Promise<{ mode: ExecutionMode | undefined } | undefined> {
  const items = [{ label: 'All modes' }, ...EXECUTION_MODES.map((label) => ({ label }))];
  const pick = await vscode.window.showQuickPick(items, { title: 'Flowrun: Filter by Mode' });
  return pick && { mode: EXECUTION_MODES.find((m) => m === pick.label) };
}

type FilterKey = 'workflowId' | 'status' | 'mode';

interface FilterButton extends vscode.QuickInputButton {
  key: FilterKey;
  values(host: Host): Promise<readonly string[]>;
}

const FILTERS: FilterButton[] = [
  {
    key: 'workflowId',
    iconPath: new vscode.ThemeIcon('type-hierarchy'),
    tooltip: 'Filter by workflow',
    values: async (host) =>
      [...new Set((await history(host, { limit: 1000 })).map((s) => s.workflowId))].sort(),
  },
  {
    key: 'status',
    iconPath: new vscode.ThemeIcon('filter'),
    tooltip: 'Filter by status',
    values: async () => EXECUTION_STATUSES,
  },
  {
    key: 'mode',
    iconPath: new vscode.ThemeIcon('server-environment'),
    tooltip: 'Filter by mode',
    values: async () => EXECUTION_MODES,
  },
];

/** Show History…: the picked execution is opened in the tree. */
export async function showHistory(
  host: Host,
  shown: { loadTree(id: string): Promise<void>; revealExecution(id: string): Promise<void> },
): Promise<void> {
  const quickPick = vscode.window.createQuickPick<ExecutionPick>();
  const filter: Partial<Record<FilterKey, string>> = {};
  quickPick.placeholder = 'Pick an execution to open it in the Executions view';
  quickPick.matchOnDescription = true;
  quickPick.matchOnDetail = true;
  quickPick.buttons = FILTERS;
  const reload = async (): Promise<void> => {
    quickPick.busy = true;
    try {
      const summaries = await history(host, { ...(filter as HistoryParams), limit: 200 });
      quickPick.items = summaries.map((s) => pickItem(s, Date.now()));
      const shown = Object.values(filter).filter(Boolean).join(', ');
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
    quickPick.onDidTriggerButton(async (pressed) => {
      const button = pressed as FilterButton;
      const choice = await vscode.window.showQuickPick(['(all)', ...(await button.values(host))], {
        title: button.tooltip,
      });
      quickPick.show();
      if (choice !== undefined) {
        filter[button.key] = choice === '(all)' ? undefined : choice;
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
