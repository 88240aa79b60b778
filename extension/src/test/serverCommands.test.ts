import './setup';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { RunHost } from '../runs';
import { serverCommands } from '../serverCommands';
import { calls, reset, Uri, window } from './vscodeFake';

class Host implements RunHost {
  requests: Array<[string, object]> = [];
  started(): void {}
  async sendRequest<R>(method: string, params: object): Promise<R> {
    this.requests.push([method, params]);
    return { executionId: 'e42' } as R;
  }
}

function setup(): { host: Host; exec: (command: string, arg?: unknown) => Promise<unknown> } {
  const host = new Host();
  const table = serverCommands(host);
  return { host, exec: (command, arg) => table[command](arg) };
}

beforeEach(() => reset());

describe('server commands', () => {
  it('runs Run Test through flowrun/execute with the lens argument', async () => {
    const { host, exec } = setup();
    const uri = 'file:///w/a.workflow.yml';
    assert.deepEqual(await exec('flowrun.runTest', { uri }), { executionId: 'e42' });
    assert.deepEqual(host.requests, [['flowrun/execute', { uri }]]);
    await exec('flowrun.runFromNode', { uri, fromNode: 'n' });
    assert.deepEqual(host.requests[1], ['flowrun/execute', { uri, fromNode: 'n' }]);
  });

  it('gives palette invocations the active workflow file', async () => {
    const { host, exec } = setup();
    const uri = Uri.file('/w/b.workflow.yaml');
    window.activeTextEditor = { document: { fileName: uri.fsPath, languageId: 'yaml', uri } };
    await exec('flowrun.runTest');
    assert.deepEqual(host.requests, [['flowrun/execute', { uri: 'file:///w/b.workflow.yaml' }]]);
    await exec('flowrun.installDependencies');
    assert.deepEqual(host.requests[1], [
      'workspace/executeCommand',
      { command: 'flowrun.installDependencies', arguments: [{ uri: 'file:///w/b.workflow.yaml' }] },
    ]);
  });

  it('says to open a workflow when there is none', async () => {
    const { host, exec } = setup();
    assert.equal(await exec('flowrun.runTest'), undefined);
    assert.deepEqual(host.requests, []);
    assert.deepEqual(calls, [
      { fn: 'showInformationMessage', args: ['Flowrun: open a *.workflow.yml file first.'] },
    ]);
  });

  it('forwards Stop to the server as it came', async () => {
    const { host, exec } = setup();
    await exec('flowrun.stop', { executionId: 'e1' });
    assert.deepEqual(host.requests, [
      ['workspace/executeCommand', { command: 'flowrun.stop', arguments: [{ executionId: 'e1' }] }],
    ]);
  });
});
