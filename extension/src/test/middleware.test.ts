import './setup';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { commandMiddleware } from '../middleware';
import { RunHost } from '../runs';
import { calls, reset, Uri, window } from './vscodeFake';

class Host implements RunHost {
  requests: Array<[string, object]> = [];
  started(): void {}
  async sendRequest<R>(method: string, params: object): Promise<R> {
    this.requests.push([method, params]);
    return { executionId: 'e42' } as R;
  }
}

type Exec = (
  command: string,
  args: unknown[],
  next: (c: string, a: unknown[]) => unknown,
) => Promise<unknown>;

function setup(): { host: Host; exec: Exec; forwarded: Array<[string, unknown[]]> } {
  const host = new Host();
  const forwarded: Array<[string, unknown[]]> = [];
  const exec = commandMiddleware(host).executeCommand as unknown as Exec;
  return { host, forwarded, exec: (c, a) => exec(c, a, (cc, aa) => forwarded.push([cc, aa])) };
}

beforeEach(() => reset());

describe('commandMiddleware', () => {
  it('runs Run Test through flowrun/execute with the lens argument', async () => {
    const { host, exec, forwarded } = setup();
    assert.deepEqual(
      await exec('flowrun.runTest', [{ uri: 'file:///w/a.workflow.yml' }], () => undefined),
      { executionId: 'e42' },
    );
    assert.deepEqual(host.requests, [['flowrun/execute', { uri: 'file:///w/a.workflow.yml' }]]);
    await exec(
      'flowrun.runFromNode',
      [{ uri: 'file:///w/a.workflow.yml', fromNode: 'n' }],
      () => undefined,
    );
    assert.deepEqual(host.requests[1], [
      'flowrun/execute',
      { uri: 'file:///w/a.workflow.yml', fromNode: 'n' },
    ]);
    assert.deepEqual(forwarded, []);
  });

  it('gives palette invocations the active workflow file', async () => {
    const { host, exec, forwarded } = setup();
    window.activeTextEditor = {
      document: {
        fileName: '/w/b.workflow.yaml',
        languageId: 'yaml',
        uri: Uri.file('/w/b.workflow.yaml'),
      },
    };
    await exec('flowrun.runTest', [], () => undefined);
    assert.deepEqual(host.requests, [['flowrun/execute', { uri: 'file:///w/b.workflow.yaml' }]]);
    await exec('flowrun.installDependencies', [], () => undefined);
    assert.deepEqual(forwarded, [
      ['flowrun.installDependencies', [{ uri: 'file:///w/b.workflow.yaml' }]],
    ]);
  });

  it('says to open a workflow when there is none', async () => {
    const { host, exec } = setup();
    assert.equal(await exec('flowrun.runTest', [], () => undefined), undefined);
    assert.deepEqual(host.requests, []);
    assert.deepEqual(calls, [
      { fn: 'showInformationMessage', args: ['Flowrun: open a *.workflow.yml file first.'] },
    ]);
  });

  it('forwards other server commands untouched', async () => {
    const { exec, forwarded } = setup();
    await exec('flowrun.stop', [{ executionId: 'e1' }], () => undefined);
    assert.deepEqual(forwarded, [['flowrun.stop', [{ executionId: 'e1' }]]]);
  });
});
