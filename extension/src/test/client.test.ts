import './setup';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowrunClient, Launch, LspClient, LspState, ServerNotReady, ServerState } from '../client';
import { launchFor } from '../python';

class FakeLsp implements LspClient {
  started = 0;
  stopped = 0;
  current: LspState = 'stopped';
  handlers = new Map<string, (params: unknown) => void>();
  listeners: Array<(state: LspState) => void> = [];
  constructor(
    readonly launch: Launch,
    private readonly failStart = false,
    private readonly gate?: Promise<void>,
  ) {}
  async start(): Promise<void> {
    this.started += 1;
    this.set('starting');
    await this.gate;
    if (this.failStart) {
      this.set('stopped');
      throw new Error('exited with code 2');
    }
    this.set('running');
  }
  async stop(): Promise<void> {
    this.stopped += 1;
    this.set('stopped');
  }
  state(): LspState {
    return this.current;
  }
  async sendRequest<R>(method: string, params: object): Promise<R> {
    return { method, params } as R;
  }
  onNotification(method: string, handler: (params: unknown) => void): void {
    this.handlers.set(method, handler);
  }
  onStateChange(listener: (state: LspState) => void): void {
    this.listeners.push(listener);
  }
  set(state: LspState): void {
    this.current = state;
    this.listeners.forEach((l) => l(state));
  }
}

const interpreter = { path: '/py', source: 'setting' as const };

function launch(python = '/py'): Launch {
  return {
    server: launchFor(python, interpreter, false),
    options: { maxConcurrentRuns: 4, python },
  };
}

/** The interpreters the fake clients were started with, in order. */
function commands(clients: FakeLsp[]): string[] {
  return clients.map((c) => c.launch.server.command);
}

function setup(
  options: { launches?: Array<Launch | undefined>; failStart?: boolean; gate?: Promise<void> } = {},
) {
  const launches = options.launches ?? [launch()];
  const clients: FakeLsp[] = [];
  const notifications: Array<[string, unknown]> = [];
  const failures: unknown[] = [];
  const states: ServerState[] = [];
  let resolved = 0;
  const client = new FlowrunClient({
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      debug: () => undefined,
    },
    resolveLaunch: async () => launches[Math.min(resolved++, launches.length - 1)],
    createClient: (l) => {
      const fake = new FakeLsp(l, options.failStart, options.gate);
      clients.push(fake);
      return fake;
    },
    onNotification: (method, params) => notifications.push([method, params]),
    reportStartFailure: (_l, error) => failures.push(error),
  });
  client.onDidChangeState((s) => states.push(s));
  return { client, clients, notifications, failures, states, resolvedCount: () => resolved };
}

describe('FlowrunClient', () => {
  it('starts the server and forwards its notifications', async () => {
    const { client, clients, notifications, states } = setup();
    await client.requestRestart();
    assert.equal(clients.length, 1);
    assert.equal(client.state, 'running');
    assert.deepEqual(states, ['starting', 'running']);
    assert.deepEqual(client.launch?.server.args, ['-m', 'flowrun', 'lsp']);
    clients[0].handlers.get('flowrun/executionEvent')!({ executionId: 'e1' });
    clients[0].handlers.get('flowrun/executionsChanged')!({});
    assert.deepEqual(notifications, [
      ['flowrun/executionEvent', { executionId: 'e1' }],
      ['flowrun/executionsChanged', {}],
    ]);
    assert.deepEqual(await client.sendRequest('flowrun/history', { limit: 1 }), {
      method: 'flowrun/history',
      params: { limit: 1 },
    });
  });

  it('leaves a server nobody asked for alone on setting changes', async () => {
    const { client, clients } = setup({ launches: [launch('/a'), launch('/b')] });
    await client.restartIfWanted();
    assert.equal(clients.length, 0);
    await client.requestRestart();
    await client.restartIfWanted();
    assert.deepEqual(commands(clients), ['/a', '/b']);
  });

  it('does not restart when the launch is unchanged, unless forced', async () => {
    const { client, clients } = setup();
    await client.requestRestart();
    await client.requestRestart();
    assert.equal(clients.length, 1);
    await client.requestRestart(true);
    assert.equal(clients.length, 2);
    assert.equal(clients[0].stopped, 1);
    assert.equal(client.state, 'running');
  });

  it('restarts when the interpreter changes', async () => {
    const { client, clients } = setup({ launches: [launch('/a'), launch('/b')] });
    await client.requestRestart();
    await client.requestRestart();
    assert.deepEqual(commands(clients), ['/a', '/b']);
  });

  it('coalesces a burst of restart requests', async () => {
    const { client, clients, resolvedCount } = setup({
      launches: [launch('/a'), launch('/b'), launch('/c')],
    });
    await Promise.all(Array.from({ length: 10 }, () => client.requestRestart()));
    assert.equal(resolvedCount(), 2);
    assert.deepEqual(commands(clients), ['/a', '/b']);
  });

  it('waits for setup when there is no usable interpreter', async () => {
    const { client, clients, states } = setup({ launches: [undefined] });
    await client.requestRestart();
    assert.equal(clients.length, 0);
    assert.equal(client.state, 'needsSetup');
    assert.deepEqual(states, ['needsSetup']);
    await assert.rejects(client.sendRequest('flowrun/history', {}), (error: ServerNotReady) => {
      assert.match(error.message, /needs a Python interpreter/);
      assert.deepEqual(
        error.actions.map((a) => a.command),
        ['flowrun.selectInterpreter'],
      );
      return true;
    });
  });

  it('says how to start a server that was never started', async () => {
    const { client } = setup();
    await assert.rejects(client.sendRequest('flowrun/history', {}), (error: ServerNotReady) => {
      assert.match(
        error.message,
        /not running \(it starts when a \*\.workflow\.yml file is open\)/,
      );
      assert.deepEqual(
        error.actions.map((a) => a.title),
        ['Start Server', 'Show Output'],
      );
      return true;
    });
  });

  it('holds a request until a starting server runs', async () => {
    let open = (): void => undefined;
    const { client } = setup({ gate: new Promise((resolve) => (open = resolve)) });
    const started = client.requestRestart();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.state, 'starting');
    const answer = client.sendRequest('flowrun/history', { limit: 1 });
    open();
    await started;
    assert.deepEqual(await answer, { method: 'flowrun/history', params: { limit: 1 } });
  });

  it('reports a server that does not start', async () => {
    const { client, failures } = setup({ failStart: true });
    await client.requestRestart();
    assert.equal(client.state, 'stopped');
    assert.equal(failures.length, 1);
    assert.equal(client.isRunning(), false);
  });

  it('follows the library restarting a crashed server, and stops on dispose', async () => {
    const { client, clients, states } = setup();
    await client.requestRestart();
    clients[0].set('stopped');
    clients[0].set('starting');
    clients[0].set('running');
    assert.deepEqual(states, ['starting', 'running', 'stopped', 'starting', 'running']);
    await client.dispose();
    assert.equal(clients[0].stopped, 1);
    assert.equal(client.state, 'stopped');
  });

  it('ignores state changes of a client it replaced', async () => {
    const { client, clients } = setup();
    await client.requestRestart();
    await client.requestRestart(true);
    clients[0].set('running');
    clients[1].set('stopped');
    assert.equal(client.state, 'stopped');
  });
});
