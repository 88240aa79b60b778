/**
 * A small fake of the `vscode` module for unit tests (ruff-vscode style injection):
 * `setup.ts` makes `require('vscode')` resolve here. Only what the modules under test use.
 */
export * from './testingFake';

type Listener<T> = (value: T) => unknown;

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: Array<Listener<T>> = [];
  readonly fired: T[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(value: T): void {
    this.fired.push(value);
    for (const listener of this.listeners) {
      listener(value);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string;
  contextValue?: string;
  iconPath?: ThemeIcon;
  command?: { command: string; title: string; arguments?: unknown[] };
  accessibilityInformation?: { label: string };
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query: string,
  ) {}
  static parse(value: string): Uri {
    const match = /^([a-z][a-z0-9+.-]*):(?:\/\/[^/]*)?([^?#]*)(?:\?([^#]*))?/i.exec(value);
    if (match === null) {
      throw new Error(`bad uri ${value}`);
    }
    return new Uri(match[1], decodeURIComponent(match[2]), match[3] ?? '');
  }
  static file(path: string): Uri {
    return new Uri('file', path, '');
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.path, ...parts].join('/'), '');
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    const auth = this.scheme === 'file' ? '//' : '';
    return `${this.scheme}:${auth}${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

export const calls: Array<{ fn: string; args: unknown[] }> = [];
export const answers: { message?: string; quickPick?: unknown; input?: string; command?: unknown } =
  {};

export class StatusBarItemFake {
  text = '';
  tooltip: string | undefined;
  command: string | undefined;
  name: string | undefined;
  backgroundColor: ThemeColor | undefined;
  visible = false;
  show(): void {
    this.visible = true;
  }
  dispose(): void {
    this.visible = false;
  }
}

const message =
  (fn: string) =>
  async (...args: unknown[]): Promise<string | undefined> => {
    calls.push({ fn, args });
    return answers.message;
  };

export const window = {
  activeTextEditor: undefined as
    { document: { fileName: string; languageId: string; uri: Uri } } | undefined,
  createStatusBarItem: (): StatusBarItemFake => new StatusBarItemFake(),
  showErrorMessage: message('showErrorMessage'),
  showWarningMessage: message('showWarningMessage'),
  showInformationMessage: message('showInformationMessage'),
  showInputBox: async (options: unknown): Promise<string | undefined> => {
    calls.push({ fn: 'showInputBox', args: [options] });
    return answers.input;
  },
  /** Answers `answers.quickPick`; a `{pick: label}` answer picks the item with that label. */
  showQuickPick: async (items: unknown, options: unknown): Promise<unknown> => {
    calls.push({ fn: 'showQuickPick', args: [items, options] });
    const label = (answers.quickPick as { pick?: string } | undefined)?.pick;
    return label === undefined
      ? answers.quickPick
      : (items as Array<{ label: string }>).find((item) => item.label === label);
  },
  withProgress: async <T>(options: unknown, task: () => Promise<T>): Promise<T> => {
    calls.push({ fn: 'withProgress', args: [options] });
    return task();
  },
  showOpenDialog: async (options: unknown): Promise<Uri[] | undefined> => {
    calls.push({ fn: 'showOpenDialog', args: [options] });
    return answers.input ? [Uri.file(answers.input)] : undefined;
  },
  showTextDocument: async (doc: unknown, options: unknown): Promise<void> => {
    calls.push({ fn: 'showTextDocument', args: [doc, options] });
  },
};

export const settings = new Map<string, unknown>();

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export class FileSystemWatcherFake {
  readonly created = new EventEmitter<Uri>();
  readonly changed = new EventEmitter<Uri>();
  readonly deleted = new EventEmitter<Uri>();
  readonly onDidCreate = this.created.event;
  readonly onDidChange = this.changed.event;
  readonly onDidDelete = this.deleted.event;
  constructor(readonly glob: string) {}
  dispose(): void {}
}

interface DocumentFake {
  uri: Uri;
  fileName: string;
}
export const watchers: FileSystemWatcherFake[] = [];
export const documentChanged = new EventEmitter<{ document: DocumentFake }>();
export const documentSaved = new EventEmitter<DocumentFake>();

export const workspace = {
  createFileSystemWatcher: (glob: string): FileSystemWatcherFake => {
    const watcher = new FileSystemWatcherFake(glob);
    watchers.push(watcher);
    return watcher;
  },
  onDidChangeTextDocument: documentChanged.event,
  onDidSaveTextDocument: documentSaved.event,
  workspaceFolders: undefined as Array<{ uri: Uri }> | undefined,
  textDocuments: [] as Array<{ uri: Uri }>,
  getConfiguration: (section: string) => ({
    get: (key: string) => settings.get(`${section}.${key}`),
    update: async (key: string, value: unknown, target: unknown): Promise<void> => {
      calls.push({ fn: 'configuration.update', args: [`${section}.${key}`, value, target] });
    },
  }),
  documentText: '',
  getWorkspaceFolder: (uri: Uri): { uri: Uri } | undefined =>
    workspace.workspaceFolders?.find((f) => uri.path.startsWith(`${f.uri.path}/`)),
  openTextDocument: async (uri: Uri): Promise<{ uri: Uri; getText(): string }> => {
    calls.push({ fn: 'openTextDocument', args: [uri.toString()] });
    return { uri, getText: () => workspace.documentText };
  },
};

export const registered = new Map<string, (...args: unknown[]) => unknown>();

export const commands = {
  executeCommand: async (...args: unknown[]): Promise<unknown> => {
    calls.push({ fn: 'executeCommand', args });
    return answers.command;
  },
  registerCommand: (id: string, handler: (...args: unknown[]) => unknown): Disposable => {
    registered.set(id, handler);
    return new Disposable(() => registered.delete(id));
  },
};

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  /** `(start, end)` or `(startLine, startCharacter, endLine, endCharacter)`. */
  constructor(
    start: Position | number,
    end: Position | number,
    endLine?: number,
    endChar?: number,
  ) {
    if (typeof start === 'number' && typeof end === 'number') {
      this.start = new Position(start, end);
      this.end = new Position(endLine ?? start, endChar ?? end);
    } else {
      this.start = start as Position;
      this.end = end as Position;
    }
  }
}

// --- the debugger's registrations (debug/register.ts) --

export class DebugAdapterInlineImplementation {
  constructor(readonly implementation: unknown) {}
}

export class EvaluatableExpression {
  constructor(
    readonly range: Range,
    readonly expression?: string,
  ) {}
}

export enum DebugConfigurationProviderTriggerKind {
  Initial = 1,
  Dynamic = 2,
}

type Provider = Record<string, (...args: unknown[]) => unknown>;

/** What was registered: adapter factories by type, configuration providers by trigger. */
export const debugRegistry = {
  factories: new Map<string, Provider>(),
  configurations: new Map<string, Provider>(),
  evaluatable: [] as Array<{ selector: unknown; provider: Provider }>,
};

export const debug = {
  registerDebugAdapterDescriptorFactory: (type: string, factory: Provider): Disposable => {
    debugRegistry.factories.set(type, factory);
    return new Disposable(() => debugRegistry.factories.delete(type));
  },
  registerDebugConfigurationProvider: (
    type: string,
    provider: Provider,
    trigger = DebugConfigurationProviderTriggerKind.Initial,
  ): Disposable => {
    const key = `${type}:${DebugConfigurationProviderTriggerKind[trigger]}`;
    debugRegistry.configurations.set(key, provider);
    return new Disposable(() => debugRegistry.configurations.delete(key));
  },
  startDebugging: async (folder: unknown, configuration: unknown): Promise<boolean> => {
    calls.push({ fn: 'startDebugging', args: [folder, configuration] });
    return true;
  },
};

export const languages = {
  registerEvaluatableExpressionProvider: (selector: unknown, provider: Provider): Disposable => {
    debugRegistry.evaluatable.push({ selector, provider });
    return new Disposable(() => (debugRegistry.evaluatable.length = 0));
  },
};

export const env = {
  clipboard: {
    writeText: async (text: string): Promise<void> => {
      calls.push({ fn: 'clipboard.writeText', args: [text] });
    },
  },
};

export function reset(): void {
  calls.length = 0;
  delete answers.message;
  delete answers.quickPick;
  delete answers.input;
  delete answers.command;
  window.activeTextEditor = undefined;
  workspace.workspaceFolders = undefined;
  workspace.textDocuments = [];
  workspace.documentText = '';
  settings.clear();
}
