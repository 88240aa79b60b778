/**
 * The `flowrun` debug adapter (debug/standalone.ts over stdio) against the REAL language
 * server, driven by @vscode/debugadapter-testsupport's DebugClient as the editor drives it:
 * gutter breakpoints verified on their node, the Variables tree, the Debug Console, Step Over,
 * Restart Node after an edit, Continue to the end, logpoints, and a breakpoint set while the
 * execution runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { PYTHON, serverEnv } from './realServer';

const EXTENSION = path.resolve(__dirname, '..', '..');
const ADAPTER = path.join(EXTENSION, 'src', 'debug', 'standalone.ts');
const WAIT_MS = 60_000;

// 1-based lines, as the editor numbers them: `- id: add` is line 3, `- id: talk` 10,
// `- id: greet` 15 (after a blank line, 14).
const HELLO = `version: 1
nodes:
  - id: add
    type: python
    with:
      args: {a: 2, b: 3}
      code: |
        def main(a, b):
            return {"sum": a + b}
  - id: talk
    needs: [add]
    type: shell
    with: {run: "echo hello"}

  - id: greet
    needs: [talk]
    type: transform
    with:
      value: {total: "\${{ nodes.add.output.sum }}"}
`;

const FAILS = (fixed: boolean) => `version: 1
nodes:
  - id: first
    type: transform
    with:
      value: 1
  - id: parse
    type: python
    needs: [first]
    with:
      code: |
        def main():
            ${fixed ? 'return {"ok": True}' : 'raise ValueError("bad input")'}
`;

// `wait` prints, then runs long enough for a Pause (or Stop) to arrive while it runs.
const SLOW = `version: 1
nodes:
  - id: wait
    type: shell
    with: {run: "echo waiting; sleep 5"}
  - id: after
    type: transform
    needs: [wait]
    with:
      value: 1
`;

let workspace: string;
let dc: DebugClient;

function file(name: string, text: string): string {
  const at = path.join(workspace, name);
  writeFileSync(at, text);
  return at;
}

async function start(): Promise<DebugClient> {
  const client = new DebugClient(process.execPath, ADAPTER, 'flowrun', {
    cwd: EXTENSION,
    env: {
      ...serverEnv(),
      NODE_OPTIONS: '--import tsx',
      FLOWRUN_PYTHON: PYTHON,
      FLOWRUN_WORKSPACE: workspace,
    },
  });
  client.defaultTimeout = WAIT_MS;
  await client.start();
  return client;
}

/** Sets the breakpoints of `program`, then launches it; the answer to setBreakpoints. */
async function launch(
  program: string,
  breakpoints: DebugProtocol.SourceBreakpoint[],
  args: object = {},
): Promise<DebugProtocol.Breakpoint[]> {
  const [set] = await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      const answer = await dc.setBreakpointsRequest({ source: { path: program }, breakpoints });
      await dc.configurationDoneRequest();
      return answer.body.breakpoints;
    }),
    dc.launch({ program, ...args }),
  ]);
  return set;
}

async function stopped(reason: string): Promise<DebugProtocol.StackFrame[]> {
  const event = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
  assert.equal(event.body.reason, reason);
  const trace = await dc.stackTraceRequest({ threadId: event.body.threadId! });
  return trace.body.stackFrames;
}

async function variables(reference: number): Promise<Map<string, DebugProtocol.Variable>> {
  const answer = await dc.variablesRequest({ variablesReference: reference });
  return new Map(answer.body.variables.map((v) => [v.name, v]));
}

/** The output events of a category, as they come. */
function collectOutput(category: string): string[] {
  const lines: string[] = [];
  dc.on('output', (event: DebugProtocol.OutputEvent) => {
    if (event.body.category === category) {
      lines.push(event.body.output);
    }
  });
  return lines;
}

/** Resolves once an output event of `category` has `text`. */
function outputOf(category: string, text: string): Promise<void> {
  return new Promise((resolve) => {
    dc.on('output', (event: DebugProtocol.OutputEvent) => {
      if (event.body.category === category && event.body.output.includes(text)) {
        resolve();
      }
    });
  });
}

/** Debugs SLOW as `name` until its node `wait` runs; the console's lines so far and to come. */
async function whileWaiting(name: string): Promise<string[]> {
  dc = await start();
  const consoleOut = collectOutput('console');
  const waiting = outputOf('stdout', '[wait] waiting');
  await launch(file(name, SLOW), []);
  await waiting;
  return consoleOut;
}

/** Runs `action` (Continue, Restart Node) and waits for the end of the session: a success. */
async function runsToSuccess(consoleOut: string[], action: () => Promise<unknown>): Promise<void> {
  const ended = dc.waitForEvent('terminated');
  await action();
  await ended;
  assert.ok(
    consoleOut.some((line) => /execution \S+ succeeded/.test(line)),
    consoleOut.join(''),
  );
}

describe('flowrun debug adapter against the real server', { timeout: 4 * WAIT_MS }, () => {
  before(() => {
    workspace = mkdtempSync(path.join(tmpdir(), 'flowrun-dap-'));
  });
  after(() => rmSync(workspace, { recursive: true, force: true }));
  afterEach(() => dc?.stop());

  it('stops at a breakpoint verified on its node, shows node outputs and evaluates', async () => {
    dc = await start();
    const program = file('hello.workflow.yml', HELLO);
    const consoleOut = collectOutput('console');
    // line 17, `type: transform`, is greet's, blank line 14 is before it, line 1 before any node
    const [onGreet, between, outside] = await Promise.all([
      launch(program, [{ line: 17 }, { line: 14 }, { line: 1 }]),
      dc.waitForEvent('stopped'),
    ]).then(([set]) => set);
    assert.deepEqual([onGreet.verified, onGreet.line], [true, 15]);
    assert.deepEqual([between.verified, between.line], [true, 15]);
    assert.equal(outside.verified, false);
    assert.match(outside.message ?? '', /node/);

    const trace = await dc.stackTraceRequest({ threadId: 1 });
    const [frame] = trace.body.stackFrames;
    assert.deepEqual([frame.name, frame.line, frame.source?.path], ['greet', 15, program]);
    const threads = await dc.threadsRequest();
    assert.deepEqual(
      threads.body.threads.map((t) => t.id),
      [1],
    );
    assert.match(threads.body.threads[0].name, /^hello · [0-9a-f]{8}$/);

    const scopes = await dc.scopesRequest({ frameId: frame.id });
    const names = scopes.body.scopes.map((s) => s.name);
    assert.deepEqual(names, ['nodes', 'inputs', 'trigger', 'env', 'secrets']);
    const nodes = await variables(scopes.body.scopes[0].variablesReference);
    assert.deepEqual([...nodes.keys()], ['add', 'talk']);
    const add = await variables(nodes.get('add')!.variablesReference);
    assert.equal(add.get('status')!.value, '"succeeded"');
    assert.equal(add.get('output')!.value, '{sum: 5}');
    const sum = await variables(add.get('output')!.variablesReference);
    assert.equal(sum.get('sum')!.value, '5');

    const evaluated = await dc.evaluateRequest({
      expression: '${{ nodes.add.output.sum * 10 }}',
      frameId: frame.id,
      context: 'repl',
    });
    assert.equal(evaluated.body.result, '50');
    await assert.rejects(
      dc.evaluateRequest({ expression: '${{ nodes.add.output.sum + }}', frameId: frame.id }),
      /expected a value, but the expression ends/,
    );

    await runsToSuccess(consoleOut, () => dc.continueRequest({ threadId: 1 }));
  });

  it('stops where a condition holds, steps over to the next node, then runs to the end', async () => {
    dc = await start();
    const program = file('step.workflow.yml', HELLO);
    const stdout = collectOutput('stdout');
    const consoleOut = collectOutput('console');
    const first = stopped('breakpoint');
    await launch(program, [{ line: 10, condition: '${{ nodes.add.output.sum == 5 }}' }]);
    assert.deepEqual(
      (await first).map((f) => [f.name, f.line]),
      [['talk', 10]],
    );
    const next = stopped('step');
    await dc.nextRequest({ threadId: 1 });
    assert.deepEqual(
      (await next).map((f) => [f.name, f.line]),
      [['greet', 15]],
    );
    assert.ok(stdout.includes('[talk] hello\n'), stdout.join(''));
    await runsToSuccess(consoleOut, () => dc.continueRequest({ threadId: 1 }));
  });

  it('pauses on a failure and restarts the node after the fix', async () => {
    dc = await start();
    const program = file('fails.workflow.yml', FAILS(false));
    const consoleOut = collectOutput('console');
    const failed = stopped('exception');
    await launch(program, []);
    const [frame] = await failed;
    assert.deepEqual([frame.name, frame.line], ['parse', 7]);
    const scopes = await dc.scopesRequest({ frameId: frame.id });
    const nodes = await variables(scopes.body.scopes[0].variablesReference);
    const parse = await variables(nodes.get('parse')!.variablesReference);
    assert.equal(parse.get('status')!.value, '"failed"');
    const error = await variables(parse.get('error')!.variablesReference);
    assert.match(error.get('message')!.value, /bad input/);
    const exception = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(exception.body.exceptionId, 'ExecutionError');
    assert.match(exception.body.description ?? '', /bad input/);
    assert.match(exception.body.details?.stackTrace ?? '', /ValueError/);

    file('fails.workflow.yml', FAILS(true));
    await runsToSuccess(consoleOut, () => dc.restartFrameRequest({ frameId: frame.id }));
  });

  it('logs a logpoint with its expressions, and passes a breakpoint whose condition is false', async () => {
    dc = await start();
    const program = file('logs.workflow.yml', HELLO);
    const logged = collectOutput('console');
    dc.on('stopped', () => assert.fail('a logpoint must not stop the run'));
    const ended = dc.waitForEvent('terminated');
    const [, point] = await launch(program, [
      { line: 10, condition: '${{ nodes.add.output.sum > 100 }}' },
      { line: 15, logMessage: 'total is ${{ nodes.add.output.sum }}' },
    ]);
    assert.equal(point.verified, true);
    await ended;
    assert.ok(logged.includes('[greet] total is 5\n'), logged.join(''));
  });

  it('pauses on request before the next node that would start', async () => {
    const consoleOut = await whileWaiting('slow.workflow.yml');
    const paused = stopped('pause');
    await dc.pauseRequest({ threadId: 1 });
    assert.deepEqual(
      (await paused).map((f) => [f.name, f.line]),
      [['after', 6]],
    );
    await runsToSuccess(consoleOut, () => dc.continueRequest({ threadId: 1 }));
  });

  it('stops at a breakpoint set while the execution runs', async () => {
    const consoleOut = await whileWaiting('live.workflow.yml');
    const paused = stopped('breakpoint');
    const program = path.join(workspace, 'live.workflow.yml');
    const set = await dc.setBreakpointsRequest({
      source: { path: program },
      breakpoints: [{ line: 6 }],
    });
    assert.deepEqual(
      set.body.breakpoints.map((b) => [b.verified, b.line]),
      [[true, 6]],
    );
    assert.deepEqual(
      (await paused).map((f) => [f.name, f.line]),
      [['after', 6]],
    );
    await runsToSuccess(consoleOut, () => dc.continueRequest({ threadId: 1 }));
  });

  it('stops a running execution on Stop', async () => {
    const consoleOut = await whileWaiting('stopped.workflow.yml');
    const ended = dc.waitForEvent('terminated');
    await dc.terminateRequest({});
    await ended;
    assert.ok(
      consoleOut.some((line) => /execution \S+ stopped/.test(line)),
      consoleOut.join(''),
    );
  });
});
