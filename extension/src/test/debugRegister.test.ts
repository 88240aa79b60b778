/** The `flowrun` debug type's registrations in the editor (debug/register.ts). */
import './setup';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FlowrunDebugSession } from '../debug/adapter';
import { editorRequests, registerDebugger } from '../debug/register';
import { ClientChannel } from '../debug/serverChannel';
import {
  answers,
  calls,
  debugRegistry,
  DebugAdapterInlineImplementation,
  EvaluatableExpression,
  Position,
  registered,
  reset,
  Uri,
  window,
  workspace,
} from './vscodeFake';

const WORKFLOW = '/w/hello.workflow.yml';
const LAUNCH = { type: 'flowrun', request: 'launch', name: 'Debug Workflow' };

function editorOn(file: string): void {
  window.activeTextEditor = {
    document: { fileName: file, languageId: 'yaml', uri: Uri.file(file) },
  };
}

describe('registerDebugger', () => {
  let disposables: Array<{ dispose(): void }>;
  beforeEach(() => {
    reset();
    disposables = registerDebugger(new ClientChannel(() => Promise.reject(new Error('none'))));
  });
  afterEach(() => disposables.forEach((d) => d.dispose()));

  it('runs the adapter inline, on the extension connection', () => {
    const factory = debugRegistry.factories.get('flowrun')!;
    const descriptor = factory.createDebugAdapterDescriptor({});
    assert.ok(descriptor instanceof DebugAdapterInlineImplementation);
    assert.ok(descriptor.implementation instanceof FlowrunDebugSession);
  });

  it('offers "Debug Workflow" of the file in the editor', async () => {
    const initial = debugRegistry.configurations.get('flowrun:Initial')!;
    assert.deepEqual(initial.provideDebugConfigurations(), [{ ...LAUNCH, program: '${file}' }]);
    const dynamic = debugRegistry.configurations.get('flowrun:Dynamic')!;
    assert.deepEqual(dynamic.provideDebugConfigurations(), []);
    editorOn(WORKFLOW);
    assert.deepEqual(dynamic.provideDebugConfigurations(), [{ ...LAUNCH, program: WORKFLOW }]);
  });

  it('debugs the workflow in the editor on F5 without a launch.json, else says why not', () => {
    const resolve = debugRegistry.configurations.get('flowrun:Initial')!.resolveDebugConfiguration;
    assert.equal(resolve(undefined, {}), undefined);
    assert.equal(calls.at(-1)?.fn, 'showInformationMessage');
    editorOn(WORKFLOW);
    assert.deepEqual(resolve(undefined, {}), { ...LAUNCH, program: WORKFLOW });
    assert.deepEqual(resolve(undefined, { ...LAUNCH, inputs: { n: 1 } }), {
      ...LAUNCH,
      inputs: { n: 1 },
      program: '${file}',
    });
  });

  it('starts a session on the ⏵ Debug CodeLens file, in its workspace folder', async () => {
    const folder = { uri: Uri.file('/w') };
    workspace.workspaceFolders = [folder];
    await registered.get('flowrun.debugWorkflow')!({ uri: `file://${WORKFLOW}` });
    assert.deepEqual(calls.at(-1), {
      fn: 'startDebugging',
      args: [folder, { ...LAUNCH, program: WORKFLOW }],
    });
    assert.equal(
      await registered.get('flowrun.debugWorkflow')!({ uri: 'file:///w/notes.md' }),
      false,
    );
    assert.equal(calls.at(-1)?.fn, 'showInformationMessage');
  });

  it('hovers evaluate the whole ${{ }} under the mouse', () => {
    const [{ provider }] = debugRegistry.evaluatable;
    const line = '      value: {total: "${{ nodes.add.output.sum }}"}';
    const document = { lineAt: () => ({ text: line }) };
    const found = provider.provideEvaluatableExpression(document, new Position(3, 30));
    assert.ok(found instanceof EvaluatableExpression);
    assert.equal(found.expression, '${{ nodes.add.output.sum }}');
    assert.deepEqual(
      [found.range.start.character, found.range.end.character, found.range.start.line],
      [line.indexOf('${{'), line.indexOf('}}"') + 2, 3],
    );
    assert.equal(provider.provideEvaluatableExpression(document, new Position(3, 7)), undefined);
  });
});

describe('editorRequests', () => {
  beforeEach(reset);
  const refusal = Object.assign(new Error('missing inputs'), {
    code: -32001,
    data: { type: 'InvalidTrigger', message: 'missing inputs', missingInputs: [{ name: 'who' }] },
  });

  function server(replies: unknown[]) {
    const sent: Array<[string, object]> = [];
    const send = async <R>(method: string, params: object): Promise<R> => {
      sent.push([method, params]);
      const reply = replies.shift();
      if (reply instanceof Error) {
        throw reply;
      }
      return reply as R;
    };
    return { sent, send };
  }

  it('asks for the inputs a launch lacks, then launches with them', async () => {
    const { sent, send } = server([refusal, { executionId: 'e1' }]);
    answers.input = 'Ada';
    const result = await editorRequests(send)('flowrun/execute', {
      uri: 'file:///w/a.workflow.yml',
    });
    assert.deepEqual(result, { executionId: 'e1' });
    assert.deepEqual(sent[1], [
      'flowrun/execute',
      { uri: 'file:///w/a.workflow.yml', inputs: { who: 'Ada' } },
    ]);
  });

  it('keeps the refusal when the user cancels, and asks nothing for other requests', async () => {
    const { send } = server([refusal, refusal]);
    await assert.rejects(editorRequests(send)('flowrun/execute', { uri: 'file:///a' }), /missing/);
    await assert.rejects(editorRequests(send)('flowrun/resume', { executionId: 'e' }), /missing/);
    assert.equal(calls.filter((c) => c.fn === 'showInputBox').length, 1);
  });
});
