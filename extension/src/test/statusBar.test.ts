import './setup';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowrunStatusBar, statusView } from '../statusBar';

describe('statusView', () => {
  it('shows the running count while runs are active', () => {
    const view = statusView('running', 2, '/py');
    assert.equal(view.text, '$(loading~spin) Flowrun: 2 running');
    assert.equal(view.command, 'flowrun.stopExecution');
    assert.equal(view.error, false);
  });
  it('shows the server and interpreter when idle', () => {
    const view = statusView('running', 0, '/usr/bin/python3');
    assert.equal(view.text, '$(zap) Flowrun');
    assert.match(view.tooltip, /Python: \/usr\/bin\/python3/);
  });
  it('offers a restart when stopped and setup when flowrun is missing', () => {
    assert.equal(statusView('stopped', 0).command, 'flowrun.restartServer');
    assert.equal(statusView('needsSetup', 0).command, 'flowrun.selectInterpreter');
    assert.equal(statusView('starting', 0).text, '$(sync~spin) Flowrun');
    assert.equal(statusView('running', 1).tooltip, '1 execution running. Click to stop one.');
  });
  it('updates the item', () => {
    const bar = new FlowrunStatusBar();
    bar.update('stopped', 0);
    const item = (
      bar as unknown as { item: { text: string; visible: boolean; backgroundColor?: unknown } }
    ).item;
    assert.equal(item.text, '$(error) Flowrun');
    assert.equal(item.visible, true);
    assert.notEqual(item.backgroundColor, undefined);
    bar.dispose();
    assert.equal(item.visible, false);
  });
});
