import './setup';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { InterpreterSetup, selectInterpreter } from '../interpreterSetup';
import { answers, calls, ConfigurationTarget, reset, settings, Uri, workspace } from './vscodeFake';

const REPO = path.resolve(__dirname, '..', '..', '..');
const VENV_PYTHON = path.join(REPO, '.venv', 'bin', 'python');
const tmp = mkdtempSync(path.join(tmpdir(), 'flowrun-ext-setup-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A Python 3.11 without flowrun whose pip "succeeds" (records its arguments). */
const NO_FLOWRUN = script(
  'no-flowrun-python',
  [
    'if [ "$1" = "-c" ]; then',
    '  echo \'{"version": "3.11.2", "recent": true, "flowrun": false}\'',
    'else',
    `  echo "$@" >> ${tmp}/pip-calls`,
    'fi',
  ].join('\n'),
);

function extensionDir(withWheel: boolean): string {
  const dir = mkdtempSync(path.join(tmp, 'ext-'));
  if (withWheel) {
    mkdirSync(path.join(dir, 'bundled'));
    writeFileSync(
      path.join(dir, 'bundled', 'flowrun-0.1.0-py3-none-any.whl'),
      'not really a wheel',
    );
  }
  return dir;
}

function setup(options: { wheel?: boolean } = {}) {
  const restarts: number[] = [];
  const context = {
    extensionPath: extensionDir(options.wheel ?? true),
    globalStorageUri: Uri.file(path.join(tmp, 'storage')),
  } as unknown as vscode.ExtensionContext;
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };
  const interpreterSetup = new InterpreterSetup(
    context,
    logger,
    () => undefined,
    () => restarts.push(1),
  );
  return { interpreterSetup, restarts };
}

beforeEach(() => reset());

describe('InterpreterSetup.resolveLaunch', () => {
  it('launches the server on an interpreter that has flowrun', async () => {
    settings.set('flowrun.python', VENV_PYTHON);
    settings.set('flowrun.maxConcurrentRuns', 2);
    workspace.workspaceFolders = [{ uri: Uri.file('/ws') }];
    const launch = await setup().interpreterSetup.resolveLaunch();
    assert.deepEqual(launch, {
      server: {
        command: VENV_PYTHON,
        args: ['-m', 'flowrun', 'lsp'],
        interpreter: { path: VENV_PYTHON, source: 'setting' },
        managed: false,
      },
      options: { maxConcurrentRuns: 2, python: VENV_PYTHON },
      cwd: '/ws',
    });
  });

  it('offers to install the bundled wheel, and installs it into the interpreter', async () => {
    settings.set('flowrun.python', NO_FLOWRUN);
    answers.message = 'Install into It';
    const { interpreterSetup, restarts } = setup();
    assert.equal(await interpreterSetup.resolveLaunch(), undefined);
    await until(() => restarts.length > 0);
    const offer = calls.find((c) => c.fn === 'showWarningMessage')!;
    assert.match(
      String(offer.args[0]),
      /the Python at .*no-flowrun-python \(from the flowrun\.python setting\) does not have the flowrun package/,
    );
    assert.deepEqual(offer.args.slice(1), [
      'Install into It',
      'Separate Environment',
      'Select Interpreter',
    ]);
    assert.ok(
      calls.some(
        (c) => c.fn === 'showInformationMessage' && String(c.args[0]).includes('flowrun installed'),
      ),
    );
  });

  it('says so when the install fails', async () => {
    settings.set(
      'flowrun.python',
      script(
        'python-without-pip',
        'if [ "$1" = "-c" ]; then echo \'{"version": "3.11.2", "recent": true, "flowrun": false}\'; else echo "No module named pip" >&2; exit 1; fi',
      ),
    );
    answers.message = 'Separate Environment';
    const { interpreterSetup, restarts } = setup();
    await interpreterSetup.resolveLaunch();
    await until(() => calls.some((c) => c.fn === 'showErrorMessage'));
    assert.match(
      String(calls.find((c) => c.fn === 'showErrorMessage')!.args[0]),
      /installing flowrun failed/,
    );
    assert.deepEqual(restarts, []);
  });

  it('only offers to select another interpreter without a bundled wheel', async () => {
    settings.set('flowrun.python', NO_FLOWRUN);
    answers.message = 'Select Interpreter';
    await setup({ wheel: false }).interpreterSetup.resolveLaunch();
    await until(() => calls.some((c) => c.fn === 'executeCommand'));
    const offer = calls.find((c) => c.fn === 'showWarningMessage')!;
    assert.deepEqual(offer.args.slice(1), ['Select Interpreter']);
    assert.deepEqual(calls.find((c) => c.fn === 'executeCommand')!.args, [
      'flowrun.selectInterpreter',
    ]);
  });

  it('explains an interpreter that cannot be used', async () => {
    settings.set('flowrun.python', path.join(tmp, 'missing-python'));
    await setup().interpreterSetup.resolveLaunch();
    await until(() => calls.some((c) => c.fn === 'showErrorMessage'));
    assert.match(
      String(calls.find((c) => c.fn === 'showErrorMessage')!.args[0]),
      /missing-python could not be run.*Select a Python 3\.11\+ interpreter/,
    );
  });
});

describe('selectInterpreter', () => {
  it('clears the setting to follow the Python extension', async () => {
    answers.quickPick = { pick: "$(python) Use the Python extension's interpreter" };
    await selectInterpreter(true);
    assert.deepEqual(calls.at(-1), {
      fn: 'configuration.update',
      args: ['flowrun.python', undefined, ConfigurationTarget.Global],
    });
  });

  it('writes an entered or browsed path to the workspace settings', async () => {
    workspace.workspaceFolders = [{ uri: Uri.file('/ws') }];
    answers.quickPick = { pick: '$(edit) Enter interpreter path…' };
    answers.input = '/opt/py/bin/python';
    await selectInterpreter(false);
    assert.deepEqual(calls.at(-1), {
      fn: 'configuration.update',
      args: ['flowrun.python', '/opt/py/bin/python', ConfigurationTarget.Workspace],
    });
    answers.quickPick = { pick: '$(folder) Browse…' };
    await selectInterpreter(false);
    assert.deepEqual(calls.at(-1)!.args[1], '/opt/py/bin/python');
    const items = (
      calls.find((c) => c.fn === 'showQuickPick')!.args[0] as Array<{ label: string }>
    ).map((i) => i.label);
    assert.deepEqual(items, [
      '$(terminal) Use python3 on PATH',
      '/ws/.venv/bin/python',
      '$(edit) Enter interpreter path…',
      '$(folder) Browse…',
    ]);
  });

  it('changes nothing when cancelled', async () => {
    await selectInterpreter(true);
    answers.quickPick = { pick: '$(edit) Enter interpreter path…' };
    await selectInterpreter(true);
    assert.equal(calls.filter((c) => c.fn === 'configuration.update').length, 0);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(check(), 'condition not reached');
}
