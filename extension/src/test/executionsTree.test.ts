import './setup';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vscode from 'vscode';
import { ExecutionModel } from '../executionModel';
import { ExecutionsTreeProvider, toTreeItem } from '../executionsTree';
import { TreeElement } from '../treeModel';
import { flatRun, ran, started, tree } from './fixtures';
import { EventEmitter, ThemeIcon, TreeItem, Uri } from './vscodeFake';

const NOW = Date.parse('2023-11-14T22:16:20.000Z');

function fired(provider: ExecutionsTreeProvider): Array<TreeElement | undefined> {
  return (provider as unknown as { emitter: EventEmitter<TreeElement | undefined> }).emitter.fired;
}

describe('toTreeItem', () => {
  it('maps a spec to a TreeItem with icon, context and open command', () => {
    const item = toTreeItem({
      id: 'x',
      label: 'Output',
      description: '{"a":1}',
      tooltip: 't',
      icon: { id: 'pass', color: 'testing.iconPassed' },
      collapsible: 'none',
      contextValue: 'flowrun.detail output',
      openUri: 'flowrun:/e1/n.output.json',
    }) as unknown as TreeItem;
    assert.equal(item.label, 'Output');
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.None);
    assert.equal(item.id, 'x');
    assert.equal((item.iconPath as ThemeIcon).id, 'pass');
    assert.equal((item.iconPath as ThemeIcon).color?.id, 'testing.iconPassed');
    assert.equal(item.command?.command, 'vscode.open');
    assert.equal((item.command?.arguments?.[0] as Uri).toString(), 'flowrun:/e1/n.output.json');
    assert.equal(item.accessibilityInformation?.label, 'Output, {"a":1}');
    const plain = toTreeItem({
      id: 'y',
      label: 'n',
      icon: { id: 'clock' },
      collapsible: 'expanded',
      contextValue: 'c',
      command: { command: 'c', title: 't', arguments: [] },
    }) as unknown as TreeItem;
    assert.equal(plain.command?.command, 'c');
    assert.equal((plain.iconPath as ThemeIcon).color, undefined);
    assert.equal(plain.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
  });
});

describe('ExecutionsTreeProvider', () => {
  it('returns the same element objects for the same items', async () => {
    const model = new ExecutionModel();
    model.setTree(tree());
    const provider = new ExecutionsTreeProvider(
      model,
      async () => undefined,
      () => NOW,
    );
    const [workflow] = await provider.getChildren();
    const [again] = await provider.getChildren();
    assert.equal(workflow, again);
    const [execution] = await provider.getChildren(workflow);
    assert.equal(provider.getParent(execution), workflow);
    const item = provider.getTreeItem(execution) as unknown as TreeItem;
    assert.equal(item.label, 'e1');
    assert.equal(item.description, 'succeeded · 1.0 s · 3 min ago');
    provider.dispose();
  });

  it('loads an execution tree on first expansion', async () => {
    const model = new ExecutionModel();
    model.setHistory([
      {
        id: 'e1',
        workflowId: 'hello',
        file: '/w/h.workflow.yml',
        status: 'succeeded',
        startedAt: null,
      },
    ]);
    const loaded: string[] = [];
    const provider = new ExecutionsTreeProvider(model, async (id) => {
      loaded.push(id);
      model.setTree(tree());
    });
    const [workflow] = await provider.getChildren();
    const [execution] = await provider.getChildren(workflow);
    const nodes = await provider.getChildren(execution);
    assert.deepEqual(loaded, ['e1']);
    assert.equal(nodes.length, 1);
    await provider.getChildren(execution);
    assert.deepEqual(loaded, ['e1']);
    provider.dispose();
  });

  it('shows what is known when loading fails', async () => {
    const model = new ExecutionModel();
    model.setHistory([{ id: 'e1', workflowId: 'hello', file: '', status: 'failed' }]);
    const provider = new ExecutionsTreeProvider(model, async () => {
      throw new Error('server down');
    });
    assert.deepEqual(await provider.getChildren({ kind: 'execution', executionId: 'e1' }), []);
    assert.equal(
      (provider.getTreeItem({ kind: 'execution', executionId: 'gone' }) as unknown as TreeItem)
        .label,
      '(gone)',
    );
    provider.dispose();
  });

  it('refreshes only the execution an event touched, batched', async () => {
    const model = new ExecutionModel();
    const provider = new ExecutionsTreeProvider(model, async () => undefined, Date.now, 1_000_000);
    model.applyPatch('e1', started());
    provider.flush();
    assert.deepEqual(fired(provider), [undefined], 'a new workflow refreshes the root');
    const [workflow] = await provider.getChildren();
    const [execution] = await provider.getChildren(workflow);
    for (const patch of flatRun().slice(1)) {
      model.applyPatch('e1', patch);
    }
    provider.flush();
    assert.equal(fired(provider).length, 2);
    assert.equal(fired(provider)[1], execution, 'the same execution element, once');
    model.applyPatch('e2', started({ id: 'e2', startedAt: '2023-11-14T22:14:00.000Z' }));
    provider.flush();
    assert.equal(fired(provider)[2], workflow, 'a new execution refreshes its workflow');
    model.applyPatch('e3', started({ id: 'e3', workflowId: 'other' }));
    provider.flush();
    assert.equal(fired(provider)[3], undefined, 'a new workflow refreshes the root');
    provider.flush();
    assert.equal(fired(provider).length, 4, 'nothing pending, nothing fired');
    provider.refresh();
    provider.flush();
    assert.equal(fired(provider).length, 5);
    provider.dispose();
  });

  it('flushes by itself after the delay', async () => {
    const model = new ExecutionModel();
    const provider = new ExecutionsTreeProvider(model, async () => undefined, Date.now, 1);
    model.applyPatch('e1', started());
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(fired(provider), [undefined]);
    provider.dispose();
  });

  it('skips refreshes of elements never shown', () => {
    const model = new ExecutionModel();
    model.setTree(tree());
    const provider = new ExecutionsTreeProvider(model, async () => undefined, Date.now, 1_000_000);
    model.applyPatch('e1', { node: ran('fetch', 'running') });
    provider.flush();
    assert.deepEqual(fired(provider), []);
    provider.dispose();
  });
});
