import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandVariables, needsRestart, readSettings, serverOptions } from '../settings';

const ENV = { workspaceFolder: '/ws', userHome: '/home/me', env: { VENV: '/opt/venv' } };

describe('settings', () => {
  it('reads defaults', () => {
    assert.deepEqual(
      readSettings(() => undefined, ENV),
      { python: '', historyPath: '', historyUrl: '', maxConcurrentRuns: 4, trace: 'off' },
    );
  });

  it('reads and expands values', () => {
    const values: Record<string, unknown> = {
      python: ' ${workspaceFolder}/.venv/bin/python ',
      historyPath: '~/h.sqlite3',
      historyUrl: 'postgresql://me@db/flowrun ',
      maxConcurrentRuns: 2,
      'trace.server': 'verbose',
    };
    assert.deepEqual(
      readSettings((k) => values[k], ENV),
      {
        python: '/ws/.venv/bin/python',
        historyPath: '/home/me/h.sqlite3',
        historyUrl: 'postgresql://me@db/flowrun',
        maxConcurrentRuns: 2,
        trace: 'verbose',
      },
    );
  });

  it('ignores bad values', () => {
    const values: Record<string, unknown> = {
      python: 3,
      maxConcurrentRuns: 0,
      'trace.server': 'loud',
    };
    const s = readSettings((k) => values[k], ENV);
    assert.equal(s.python, '');
    assert.equal(s.maxConcurrentRuns, 4);
    assert.equal(s.trace, 'off');
    assert.equal(
      readSettings((k) => (k === 'maxConcurrentRuns' ? 500 : undefined), ENV).maxConcurrentRuns,
      64,
    );
  });

  it('expands variables', () => {
    assert.equal(expandVariables('${env:VENV}/bin/python', ENV), '/opt/venv/bin/python');
    assert.equal(expandVariables('${env:NOPE}x', ENV), 'x');
    assert.equal(expandVariables('${userHome}/p', ENV), '/home/me/p');
    assert.equal(
      expandVariables('${workspaceFolder}', { ...ENV, workspaceFolder: undefined }),
      '${workspaceFolder}',
    );
    assert.equal(expandVariables('${other}', ENV), '${other}');
    assert.equal(expandVariables('~', ENV), '/home/me');
    assert.equal(expandVariables('a~b', ENV), 'a~b');
  });

  it('builds the server options', () => {
    const s = readSettings(() => undefined, ENV);
    assert.deepEqual(serverOptions(s), { maxConcurrentRuns: 4 });
    assert.deepEqual(serverOptions({ ...s, historyPath: '/h' }, '/py'), {
      maxConcurrentRuns: 4,
      python: '/py',
      historyPath: '/h',
    });
  });

  it('restarts only for the interpreter and the history path', () => {
    const keys = ['python', 'historyPath', 'maxConcurrentRuns', 'trace.server'];
    const restarts = keys.map((key) => needsRestart((k) => k === `flowrun.${key}`));
    assert.deepEqual(restarts, [true, true, false, false]);
  });
});
