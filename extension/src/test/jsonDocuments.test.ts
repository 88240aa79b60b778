import './setup';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vscode from 'vscode';
import { ExecutionModel } from '../executionModel';
import { ExecutionDocuments } from '../jsonDocuments';
import { flatRun, started, tree } from './fixtures';
import { EventEmitter, Uri } from './vscodeFake';

function provide(docs: ExecutionDocuments, uri: string): Promise<string> {
  return docs.provideTextDocumentContent(vscode.Uri.parse(uri));
}

/** Documents over a model whose trees load (and are recorded) on demand. */
function loading(): { model: ExecutionModel; loaded: string[]; docs: ExecutionDocuments } {
  const model = new ExecutionModel();
  const loaded: string[] = [];
  const load = async (id: string): Promise<void> => {
    loaded.push(id);
    model.setTree(tree({ id }));
  };
  return { model, loaded, docs: new ExecutionDocuments(model, load, () => []) };
}

describe('ExecutionDocuments', () => {
  it('serves node output and the whole execution, loading the tree first', async () => {
    const { loaded, docs } = loading();
    assert.equal(await provide(docs, 'flowrun:/e1/fetch.output.json'), '{\n  "status": 200\n}\n');
    assert.deepEqual(loaded, ['e1']);
    assert.equal(JSON.parse(await provide(docs, 'flowrun:/e1/execution.json')).id, 'e1');
    assert.deepEqual(loaded, ['e1']);
    assert.match(
      await provide(docs, 'flowrun:/e1/nope.input.json'),
      /no node nope of execution e1/,
    );
    assert.match(await provide(docs, 'flowrun:/e1/x'), /not an execution document/);
    docs.dispose();
  });

  it('fetches the stored tree of a whole execution once it ended, not per event', async () => {
    const { model, loaded, docs } = loading();
    model.applyPatch('e1', started());
    await provide(docs, 'flowrun:/e1/execution.json');
    await provide(docs, 'flowrun:/e1/fetch.input.json');
    assert.deepEqual(loaded, [], 'a running execution shows its live tree');
    model.applyPatch('e1', flatRun()[6]);
    const text = await provide(docs, 'flowrun:/e1/execution.json');
    assert.deepEqual(JSON.parse(text).inputs, { style: 'short' });
    await provide(docs, 'flowrun:/e1/execution.json');
    assert.deepEqual(loaded, ['e1']);
    docs.dispose();
  });

  it('says what to do when the server cannot answer', async () => {
    const docs = new ExecutionDocuments(
      new ExecutionModel(),
      async () => {
        throw new Error('not running');
      },
      () => [],
    );
    const text = await provide(docs, 'flowrun:/e9/execution.json');
    assert.match(text, /could not load execution e9: Error: not running/);
    assert.match(text, /Restart Server/);
    const unknown = new ExecutionDocuments(
      new ExecutionModel(),
      async () => undefined,
      () => [],
    );
    assert.match(
      await provide(unknown, 'flowrun:/e9/execution.json'),
      /no execution e9 in its history/,
    );
  });

  it('tells open documents of an execution that it changed', () => {
    const model = new ExecutionModel();
    const open = [
      { uri: Uri.parse('flowrun:/e1/fetch.logs.txt') },
      { uri: Uri.parse('flowrun:/e2/execution.json') },
      { uri: Uri.parse('file:///w/hello.workflow.yml') },
      { uri: Uri.parse('flowrun:/broken') },
    ];
    const docs = new ExecutionDocuments(
      model,
      async () => undefined,
      () => open as unknown as vscode.TextDocument[],
    );
    const emitter = (docs as unknown as { emitter: EventEmitter<Uri> }).emitter;
    model.applyPatch('e1', started());
    model.applyPatch('e1', flatRun()[1]);
    assert.deepEqual(emitter.fired.map(String), [
      'flowrun:/e1/fetch.logs.txt',
      'flowrun:/e1/fetch.logs.txt',
    ]);
    model.clear();
    assert.deepEqual(emitter.fired.slice(2).map(String), [
      'flowrun:/e1/fetch.logs.txt',
      'flowrun:/e2/execution.json',
    ]);
    docs.dispose();
  });
});
