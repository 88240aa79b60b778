/**
 * The `flowrunExecutions` TreeDataProvider: items come from treeModel's ItemSpecs; model
 * changes refresh only the execution (or workflow) they touch, batched per tick.
 */
import * as vscode from 'vscode';
import { ExecutionModel, ModelChange, UNKNOWN_WORKFLOW } from './executionModel';
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

export class ExecutionsTreeProvider
  implements vscode.TreeDataProvider<TreeElement>, vscode.Disposable
{
  private readonly emitter = new vscode.EventEmitter<TreeElement | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly interned = new Map<string, TreeElement>();
  private readonly pending = new Set<string>();
  private pendingAll = false;
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
    this.pendingAll = true;
    this.schedule();
  }

  private onModelChange(change: ModelChange): void {
    if (change.executionId === undefined) {
      this.pendingAll = true;
    } else if (change.added) {
      const workflow = this.interned.get(
        elementKey({ kind: 'workflow', workflowId: change.workflowId || UNKNOWN_WORKFLOW }),
      );
      if (workflow === undefined) {
        this.pendingAll = true;
      } else {
        this.pending.add(elementKey(workflow));
      }
    } else {
      this.pending.add(elementKey({ kind: 'execution', executionId: change.executionId }));
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = undefined;
    if (this.pendingAll) {
      this.pendingAll = false;
      this.pending.clear();
      this.emitter.fire(undefined);
      return;
    }
    for (const key of this.pending) {
      const element = this.interned.get(key);
      if (element !== undefined) {
        this.emitter.fire(element);
      }
    }
    this.pending.clear();
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
