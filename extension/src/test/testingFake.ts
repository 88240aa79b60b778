/**
 * The Testing API part of the `vscode` fake (vscodeFake.ts re-exports it): a test controller
 * whose items, run profiles and runs a test can read, and the request/message/token classes
 * testExplorer.ts makes. Only what testExplorer.ts uses.
 */
interface Disposable {
  dispose(): void;
}

export enum TestRunProfileKind {
  Run = 1,
  Debug = 2,
  Coverage = 3,
}

export class Location {
  constructor(
    readonly uri: { toString(): string },
    readonly range: { line: number; character: number },
  ) {}
}

export class TestMessage {
  expectedOutput?: string;
  actualOutput?: string;
  location?: Location;
  constructor(readonly message: string) {}
  static diff(message: string, expected: string, actual: string): TestMessage {
    const made = new TestMessage(message);
    made.expectedOutput = expected;
    made.actualOutput = actual;
    return made;
  }
}

export class TestRunRequest {
  constructor(
    readonly include?: TestItemFake[],
    readonly exclude?: TestItemFake[],
    readonly profile?: unknown,
    readonly continuous?: boolean,
  ) {}
}

export class CancellationTokenSource {
  private listeners: Array<() => void> = [];
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: () => void): Disposable => {
      this.listeners.push(listener);
      return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
    },
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.listeners.forEach((listener) => listener());
  }
}

export class TestItemCollectionFake {
  private readonly map = new Map<string, TestItemFake>();
  constructor(private readonly owner?: TestItemFake) {}
  get size(): number {
    return this.map.size;
  }
  add(item: TestItemFake): void {
    item.parent = this.owner;
    this.map.set(item.id, item);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  get(id: string): TestItemFake | undefined {
    return this.map.get(id);
  }
  replace(items: TestItemFake[]): void {
    this.map.clear();
    items.forEach((item) => this.add(item));
  }
  [Symbol.iterator](): IterableIterator<[string, TestItemFake]> {
    return this.map.entries();
  }
}

export class TestItemFake {
  parent?: TestItemFake;
  range?: { start: { line: number } };
  error?: string;
  readonly children = new TestItemCollectionFake(this);
  constructor(
    readonly id: string,
    readonly label: string,
    readonly uri?: { toString(): string },
  ) {}
}

type Outcome = 'passed' | 'failed' | 'errored';

/** A run as the user sees it: what each test went through, its messages, whether it ended. */
export class TestRunFake {
  readonly states = new Map<string, string[]>();
  readonly messages = new Map<string, TestMessage[]>();
  readonly output: string[] = [];
  ended = false;
  constructor(readonly request: TestRunRequest) {}
  private note(item: TestItemFake, state: string): void {
    this.states.set(item.id, [...(this.states.get(item.id) ?? []), state]);
  }
  enqueued(item: TestItemFake): void {
    this.note(item, 'enqueued');
  }
  started(item: TestItemFake): void {
    this.note(item, 'started');
  }
  passed(item: TestItemFake): void {
    this.note(item, 'passed');
  }
  failed(item: TestItemFake, messages: TestMessage[]): void {
    this.finish(item, 'failed', messages);
  }
  errored(item: TestItemFake, messages: TestMessage[]): void {
    this.finish(item, 'errored', messages);
  }
  appendOutput(text: string): void {
    this.output.push(text);
  }
  end(): void {
    this.ended = true;
  }
  /** The last outcome of each test that has one, by label. */
  outcomes(): Record<string, Outcome> {
    const found: Record<string, Outcome> = {};
    for (const [id, states] of this.states) {
      const last = states[states.length - 1];
      if (last === 'passed' || last === 'failed' || last === 'errored') {
        found[id.slice(id.lastIndexOf('::') + 2)] = last;
      }
    }
    return found;
  }
  private finish(item: TestItemFake, state: Outcome, messages: TestMessage[]): void {
    this.note(item, state);
    this.messages.set(item.id, messages);
  }
}

export class TestRunProfileFake {
  constructor(
    readonly label: string,
    readonly kind: TestRunProfileKind,
    readonly runHandler: (request: TestRunRequest, token: unknown) => Promise<void> | void,
    readonly supportsContinuousRun: boolean,
  ) {}
  dispose(): void {}
}

export class TestControllerFake {
  readonly items = new TestItemCollectionFake();
  readonly profiles: TestRunProfileFake[] = [];
  readonly runs: TestRunFake[] = [];
  refreshHandler?: () => Promise<void>;
  resolveHandler?: (item: TestItemFake | undefined) => Promise<void>;
  constructor(
    readonly id: string,
    readonly label: string,
  ) {}
  createTestItem(id: string, label: string, uri?: { toString(): string }): TestItemFake {
    return new TestItemFake(id, label, uri);
  }
  createRunProfile(
    label: string,
    kind: TestRunProfileKind,
    runHandler: TestRunProfileFake['runHandler'],
    _isDefault?: boolean,
    _tag?: unknown,
    supportsContinuousRun = false,
  ): TestRunProfileFake {
    const profile = new TestRunProfileFake(label, kind, runHandler, supportsContinuousRun);
    this.profiles.push(profile);
    return profile;
  }
  createTestRun(request: TestRunRequest): TestRunFake {
    const run = new TestRunFake(request);
    this.runs.push(run);
    return run;
  }
  dispose(): void {}
}

export const testControllers: TestControllerFake[] = [];

export const tests = {
  createTestController: (id: string, label: string): TestControllerFake => {
    const controller = new TestControllerFake(id, label);
    testControllers.push(controller);
    return controller;
  },
};
