import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  bundledWheel,
  chooseServerPython,
  EnvironmentProvider,
  installSteps,
  managedPython,
  Probe,
  probeInterpreter,
  resolveInterpreter,
  runSteps,
} from '../python';

const REPO = path.resolve(__dirname, '..', '..', '..');
const VENV_PYTHON = path.join(REPO, '.venv', 'bin', 'python');
const tmp = mkdtempSync(path.join(tmpdir(), 'flowrun-ext-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function fakeProvider(
  active: string | undefined | Error,
): EnvironmentProvider & { asked: Array<string | undefined> } {
  const asked: Array<string | undefined> = [];
  return {
    asked,
    async activeInterpreter(folder?: string) {
      asked.push(folder);
      if (active instanceof Error) {
        throw active;
      }
      return active;
    },
  };
}

function script(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('resolveInterpreter', () => {
  it('prefers the flowrun.python setting', async () => {
    const provider = fakeProvider('/env/bin/python');
    assert.deepEqual(await resolveInterpreter('/my/python', provider, '/ws'), {
      path: '/my/python',
      source: 'setting',
    });
    assert.deepEqual(provider.asked, []);
  });

  it("then asks the Python extension for the folder's interpreter", async () => {
    const provider = fakeProvider('/env/bin/python');
    assert.deepEqual(await resolveInterpreter('', provider, '/ws'), {
      path: '/env/bin/python',
      source: 'pythonExtension',
    });
    assert.deepEqual(provider.asked, ['/ws']);
  });

  it('falls back to python3 without a provider, an answer, or when it fails', async () => {
    const expected = { path: 'python3', source: 'path' };
    assert.deepEqual(await resolveInterpreter('', undefined), expected);
    assert.deepEqual(await resolveInterpreter('', fakeProvider(undefined)), expected);
    assert.deepEqual(await resolveInterpreter('', fakeProvider(new Error('down'))), expected);
  });
});

describe('probeInterpreter (real processes)', () => {
  it('sees flowrun in the repository venv', async () => {
    const probe = await probeInterpreter(VENV_PYTHON);
    assert.equal(probe.usable, true);
    assert.equal(probe.hasFlowrun, true);
    assert.match(probe.version ?? '', /^3\.\d+\.\d+$/);
  });

  it('sees a Python without flowrun', async () => {
    const bare = script('bare-python', `exec ${VENV_PYTHON} -I -S "$@"`);
    const probe = await probeInterpreter(bare);
    assert.equal(probe.usable, true);
    assert.equal(probe.hasFlowrun, false);
  });

  it('explains a missing interpreter', async () => {
    const probe = await probeInterpreter(path.join(tmp, 'no-such-python'));
    assert.equal(probe.usable, false);
    assert.match(probe.problem!, /no-such-python could not be run: .*ENOENT/);
  });

  it('explains a failing, an old or a strange interpreter', async () => {
    const failing = await probeInterpreter(script('failing', 'echo broken >&2; exit 3'));
    assert.match(failing.problem!, /could not be run: broken/);
    const old = await probeInterpreter(
      script('old', `echo '{"version": "3.8.1", "recent": false, "flowrun": false}'`),
    );
    assert.equal(old.usable, false);
    assert.match(old.problem!, /is Python 3\.8\.1; Flowrun needs Python 3\.11 or newer\./);
    const strange = await probeInterpreter(script('strange', 'echo hello'));
    assert.equal(strange.usable, false);
    assert.match(strange.problem!, /printed: hello/);
  });
});

describe('chooseServerPython', () => {
  const interpreter = { path: '/user/python', source: 'setting' as const };
  const probes = (table: Record<string, Probe>) => async (python: string) =>
    table[python] ?? { usable: false, hasFlowrun: false, problem: 'unknown' };
  const withFlowrun: Probe = { usable: true, hasFlowrun: true, version: '3.11.2' };
  const without: Probe = { usable: true, hasFlowrun: false, version: '3.11.2' };

  it('runs the server on the interpreter when it has flowrun', async () => {
    const { launch } = await chooseServerPython(
      interpreter,
      tmp,
      probes({ '/user/python': withFlowrun }),
    );
    assert.deepEqual(launch, {
      command: '/user/python',
      args: ['-m', 'flowrun', 'lsp'],
      interpreter,
      managed: false,
    });
  });

  it('uses the managed venv when the interpreter lacks flowrun', async () => {
    const storage = path.join(tmp, 'storage');
    const venvPython = managedPython(storage);
    const table = { '/user/python': without, [venvPython]: withFlowrun };
    assert.equal((await chooseServerPython(interpreter, storage, probes(table))).launch, undefined);
    mkdirSync(path.dirname(venvPython), { recursive: true });
    writeFileSync(venvPython, '');
    const { launch, probe } = await chooseServerPython(interpreter, storage, probes(table));
    assert.deepEqual(launch, {
      command: venvPython,
      args: ['-m', 'flowrun', 'lsp'],
      interpreter,
      managed: true,
    });
    assert.equal(probe, without);
    const { launch: none } = await chooseServerPython(
      interpreter,
      storage,
      probes({ '/user/python': without }),
    );
    assert.equal(none, undefined);
  });
});

describe('installing the bundled wheel', () => {
  it('finds the newest bundled wheel', () => {
    const ext = path.join(tmp, 'ext');
    assert.equal(bundledWheel(ext), undefined);
    mkdirSync(path.join(ext, 'bundled'), { recursive: true });
    assert.equal(bundledWheel(ext), undefined);
    for (const name of [
      'flowrun-0.1.0-py3-none-any.whl',
      'flowrun-0.2.0-py3-none-any.whl',
      'other-1.0.whl',
    ]) {
      writeFileSync(path.join(ext, 'bundled', name), '');
    }
    assert.equal(bundledWheel(ext), path.join(ext, 'bundled', 'flowrun-0.2.0-py3-none-any.whl'));
  });

  it('installs into the interpreter or into a managed venv', () => {
    assert.deepEqual(installSteps('/py', '/w.whl', 'interpreter', '/s'), [
      { command: '/py', args: ['-m', 'pip', 'install', '--upgrade', '/w.whl'] },
    ]);
    assert.deepEqual(installSteps('/py', '/w.whl', 'managed', '/s'), [
      { command: '/py', args: ['-m', 'venv', '/s/venv'] },
      { command: '/s/venv/bin/python', args: ['-m', 'pip', 'install', '--upgrade', '/w.whl'] },
    ]);
    assert.equal(
      managedPython('C:\\s', 'win32'),
      path.join('C:\\s', 'venv', 'Scripts', 'python.exe'),
    );
  });

  it('runs steps in order and stops at the first failure', async () => {
    const lines: string[] = [];
    const ok = await runSteps([{ command: VENV_PYTHON, args: ['-c', 'print("one")'] }], (l) =>
      lines.push(l),
    );
    assert.equal(ok.ok, true);
    assert.equal(ok.output, 'one\n');
    assert.equal(lines[0], `$ ${VENV_PYTHON} -c print("one")`);
    const bad = await runSteps(
      [
        { command: VENV_PYTHON, args: ['-c', 'import sys; sys.exit("nope")'] },
        { command: VENV_PYTHON, args: ['-c', 'print("never")'] },
      ],
      () => undefined,
    );
    assert.equal(bad.ok, false);
    assert.match(bad.output, /nope/);
    assert.doesNotMatch(bad.output, /never/);
  });
});
