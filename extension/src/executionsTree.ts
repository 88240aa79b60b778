/**
 * The Executions view: `ExecutionsTreeProvider` (items from treeItems' ItemSpecs; model changes
 * refresh only the execution or workflow they touch, batched per tick) and `ExecutionsView`
 * (the tree view: revealing, the mode filter, a clock for the relative start times).
 */
import * as vscode from 'vscode';
import { ExecutionModel, ModelChange, UNKNOWN_WORKFLOW } from './executionModel';
import { Logger } from './logger';
import { EXECUTION_MODES, ExecutionMode } from './protocol';
import { Collapsible, describe, ItemSpec } from './treeItems';
import { childrenOf, elementKey, parentOf, TreeElement } from './treeModel';

const COLLAPSIBLE: Record<Collapsible, vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function toTreeItem(spec: ItemSpec): vscode.TreeItem {
  const item = new vscode.TreeItem(spec.label, COLLAPSIBLE[spec.collapsible]);
  item.id = spec.id;
  item.description = spec.description;
  item.tooltip = spec.tooltip;
  item.contextValue = spec.contextValue;
  item.iconPath = new vscode.ThemeIcon(
    spec.icon.id,
    spec.icon.color ? new vscode.ThemeColor(spec.icon.color) : undefined,
  );
  item.accessibilityInformation = {
    label: [spec.label, spec.description].filter(Boolean).join(', '),
  };
  if (spec.openUri !== undefined) {
    item.command = {
      command: 'vscode.open',
      title: 'Open',
      arguments: [vscode.Uri.parse(spec.openUri), { preview: true }],
    };
  } else if (spec.command !== undefined) {
    item.command = spec.command;
  }
  return item;
}

export type TreeLoader = (executionId: string) => Promise<void>;

const ALL = '';

export class ExecutionsTreeProvider
  implements vscode.TreeDataProvider<TreeElement>, vscode.Disposable
{
  private readonly emitter = new vscode.EventEmitter<TreeElement | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly interned = new Map<string, TreeElement>();
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly model: ExecutionModel,
    private readonly load: TreeLoader,
    private readonly now: () => number = Date.now,
    private readonly delayMs = 50,
  ) {
    this.subscription = model.onDidChange((change) => this.onModelChange(change));
  }

  /** The same object for the same element, as the tree view matches elements by identity. */
  intern<T extends TreeElement>(element: T): T {
    const key = elementKey(element);
    const known = this.interned.get(key);
    if (known !== undefined) {
      return known as T;
    }
    this.interned.set(key, element);
    return element;
  }

  getTreeItem(element: TreeElement): vscode.TreeItem {
    const spec = describe(this.model, element, this.now());
    return spec ? toTreeItem(spec) : new vscode.TreeItem('(gone)');
  }

  async getChildren(element?: TreeElement): Promise<TreeElement[]> {
    if (element?.kind === 'execution' && !this.model.get(element.executionId)?.loaded) {
      try {
        await this.load(element.executionId);
      } catch {
        // The loader reports its own errors; show what is known.
      }
    }
    return childrenOf(this.model, element).map((e) => this.intern(e));
  }

  getParent(element: TreeElement): TreeElement | undefined {
    const parent = parentOf(this.model, element);
    return parent && this.intern(parent);
  }

  refresh(): void {
    this.mark(ALL);
  }

  private onModelChange(change: ModelChange): void {
    const workflowId = change.workflowId || UNKNOWN_WORKFLOW;
    const workflow = elementKey({ kind: 'workflow', workflowId });
    if (change.executionId === undefined || (change.added && !this.interned.has(workflow))) {
      this.mark(ALL); // a new workflow: the root changes
    } else {
      this.mark(
        change.added
          ? workflow
          : elementKey({ kind: 'execution', executionId: change.executionId }),
      );
    }
  }

  /** Refresh `key` (ALL: everything) in the next batch. */
  private mark(key: string): void {
    this.pending.add(key);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const keys = this.pending.has(ALL) ? [ALL] : [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      const element = this.interned.get(key);
      if (key === ALL || element !== undefined) {
        this.emitter.fire(element);
      }
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

const MODE_KEY = 'flowrun.executions.mode';

/**
 * The `flowrunExecutions` view. Its mode filter is a title action ("Filter by Mode…") kept per
 * workspace; the view's description names it, and a run the user starts is always shown (a
 * filter that would hide it is dropped).
 */
export class ExecutionsView implements vscode.Disposable {
  readonly tree: ExecutionsTreeProvider;
  private readonly view: vscode.TreeView<TreeElement>;
  private readonly clock: ReturnType<typeof setInterval>;

  constructor(
    private readonly model: ExecutionModel,
    load: TreeLoader,
    private readonly logger: Logger,
    private readonly state: vscode.Memento,
    private readonly reload: () => Promise<void>,
  ) {
    this.tree = new ExecutionsTreeProvider(model, load);
    this.view = vscode.window.createTreeView('flowrunExecutions', {
      treeDataProvider: this.tree,
      showCollapseAll: true,
    });
    // Relative start times ("3 min ago") age: redraw while the view is visible.
    this.clock = setInterval(() => this.view.visible && this.tree.refresh(), 60_000);
    const saved = state.get<string>(MODE_KEY);
    this.showFilter(EXECUTION_MODES.find((m) => m === saved));
  }

  async reveal(executionId: string): Promise<void> {
    this.tree.flush();
    const element = this.tree.intern({ kind: 'execution', executionId });
    try {
      await this.view.reveal(element, { select: true, focus: false, expand: true });
    } catch (error) {
      this.logger.debug(`reveal ${executionId}: ${String(error)}`);
    }
  }

  /** A run this client started (test mode). */
  async showRun(executionId: string): Promise<void> {
    if (this.model.modeFilter !== undefined && this.model.modeFilter !== 'test') {
      await this.setModeFilter(undefined);
    }
    await this.reveal(executionId);
  }

  async setModeFilter(mode: ExecutionMode | undefined): Promise<void> {
    this.showFilter(mode);
    await this.state.update(MODE_KEY, mode);
    this.tree.refresh();
    await this.reload().catch((error) => this.logger.warn(`history: ${String(error)}`));
  }

  private showFilter(mode: ExecutionMode | undefined): void {
    this.model.modeFilter = mode;
    this.view.description = mode && `${mode} only`;
  }

  dispose(): void {
    clearInterval(this.clock);
    this.view.dispose();
    this.tree.dispose();
  }
}
