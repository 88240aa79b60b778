import './setup';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { errorMessage } from '../errors';
import {
  activeWorkflowUri,
  execute,
  fileUri,
  missingInputs,
  parseInputValue,
  RunHost,
  uriArgument,
} from '../runs';
import { answers, calls, reset, Uri, window, workspace } from './vscodeFake';

class Host implements RunHost {
  requests: Array<[string, object]> = [];
  startedRuns: Array<[string, string]> = [];
  constructor(private readonly replies: Array<unknown | Error>) {}
  async sendRequest<R>(method: string, params: object): Promise<R> {
    this.requests.push([method, params]);
    const reply = this.replies.shift();
    if (reply instanceof Error) {
      throw reply;
    }
    return reply as R;
  }
  started(executionId: string, uri: string): void {
    this.startedRuns.push([executionId, uri]);
  }
}

function rpcError(message: string, data: unknown): Error {
  return Object.assign(new Error(message), { code: -32001, data });
}

beforeEach(() => reset());

describe('execute', () => {
  it('sends flowrun/execute and reports the started run', async () => {
    const host = new Host([{ executionId: 'abc' }]);
    assert.equal(await execute(host, { uri: 'file:///w/a.workflow.yml' }), 'abc');
    assert.deepEqual(host.requests, [['flowrun/execute', { uri: 'file:///w/a.workflow.yml' }]]);
    assert.deepEqual(host.startedRuns, [['abc', 'file:///w/a.workflow.yml']]);
  });

  it('asks for missing inputs and retries with them', async () => {
    const missing = rpcError('missing inputs', {
      type: 'InvalidTrigger',
      message: 'missing inputs',
      missingInputs: [
        { name: 'count', type: 'number' },
        { name: 'who', description: 'Who to greet' },
      ],
    });
    const host = new Host([missing, { executionId: 'abc' }]);
    answers.input = '3';
    await execute(host, { uri: 'file:///a', inputs: { given: true } });
    assert.deepEqual(host.requests[1], [
      'flowrun/execute',
      { uri: 'file:///a', inputs: { given: true, count: 3, who: '3' } },
    ]);
    const prompts = calls
      .filter((c) => c.fn === 'showInputBox')
      .map((c) => (c.args[0] as { prompt: string }).prompt);
    assert.deepEqual(prompts, ['Value of the workflow input "count" (number)', 'Who to greet']);
  });

  it('reads missing inputs only from the list the server sends, never from its prose', () => {
    const list = [{ name: 'who', type: 'string' }];
    assert.deepEqual(missingInputs(rpcError('x', { missingInputs: list })), list);
    assert.deepEqual(missingInputs(new Error('missing required input `n` (text)')), []);
  });

  it('does not ask twice for an input the server still refuses', async () => {
    const refusal = rpcError('x', {
      type: 'ValidationError',
      message: 'missing required input `who` (text)',
      missingInputs: [{ name: 'who', type: 'string' }],
    });
    const host = new Host([refusal]);
    assert.equal(await execute(host, { uri: 'file:///a', inputs: { who: '' } }), undefined);
    assert.equal(calls.filter((c) => c.fn === 'showInputBox').length, 0);
    assert.equal(calls[0].fn, 'showErrorMessage');
  });

  it('stops when the user cancels an input', async () => {
    const host = new Host([rpcError('m', { missingInputs: [{ name: 'x' }] })]);
    assert.equal(await execute(host, { uri: 'file:///a' }), undefined);
    assert.equal(host.requests.length, 1);
  });

  it('shows refusals with the action that fixes them', async () => {
    const cases: Array<[unknown, string | undefined, string]> = [
      [
        { type: 'DependencyError', message: 'httpx is missing.', suggestion: 'Install it.' },
        'Install Dependencies',
        'flowrun.installDependencies',
      ],
      [
        { type: 'ValidationError', message: 'The workflow has 2 errors.' },
        'Show Problems',
        'workbench.actions.view.problems',
      ],
      [
        { type: 'PythonNotFound', message: 'No python.' },
        'Select Python Interpreter',
        'flowrun.selectInterpreter',
      ],
    ];
    for (const [data, button, command] of cases) {
      reset();
      answers.message = button;
      await execute(new Host([rpcError('x', data)]), { uri: 'file:///a' });
      const shown = calls.find((c) => c.fn === 'showErrorMessage')!;
      assert.equal(shown.args[1], button);
      assert.equal(calls.find((c) => c.fn === 'executeCommand')?.args[0], command);
    }
    reset();
    await execute(new Host([new Error('plain failure')]), { uri: 'file:///a' });
    assert.deepEqual(calls, [{ fn: 'showErrorMessage', args: ['Flowrun: plain failure'] }]);
  });
});

describe('helpers', () => {
  it('reads error messages and suggestions', () => {
    assert.equal(
      errorMessage(rpcError('m', { message: 'Bad.', suggestion: 'Do X.' })),
      'Bad. Do X.',
    );
    assert.equal(errorMessage(rpcError('Bad. Do X.', { suggestion: 'Do X.' })), 'Bad. Do X.');
    assert.equal(errorMessage('text'), 'text');
  });

  it('parses typed inputs as JSON of their type', () => {
    assert.deepEqual(parseInputValue('2.5', 'number'), { value: 2.5 });
    assert.deepEqual(parseInputValue('true', 'boolean'), { value: true });
    assert.deepEqual(parseInputValue('{"a":1}', 'object'), { value: { a: 1 } });
    assert.deepEqual(parseInputValue('[1]', 'array'), { value: [1] });
    assert.deepEqual(parseInputValue(' x ', undefined), { value: ' x ' });
    assert.deepEqual(parseInputValue('anything', 'string'), { value: 'anything' });
    assert.equal(parseInputValue('x', 'number'), 'Enter a number (as JSON).');
    assert.equal(parseInputValue('', 'number'), 'Enter a number (as JSON).');
    assert.equal(parseInputValue('yes', 'boolean'), 'Enter a boolean (as JSON).');
    assert.equal(parseInputValue('[1]', 'object'), 'Enter an object (as JSON).');
    assert.equal(parseInputValue('null', 'object'), 'Enter an object (as JSON).');
  });

  it('finds the workflow URI of a command argument or the active editor', () => {
    assert.equal(uriArgument('file:///a'), 'file:///a');
    assert.equal(uriArgument({ uri: 'file:///b' }), 'file:///b');
    assert.equal(uriArgument(Uri.parse('file:///c')), 'file:///c');
    assert.equal(uriArgument({ uri: Uri.parse('file:///d') }), 'file:///d');
    assert.equal(uriArgument(undefined), undefined);
    assert.equal(uriArgument(''), undefined);
    assert.equal(activeWorkflowUri(), undefined);
    window.activeTextEditor = {
      document: {
        fileName: '/w/a.workflow.yml',
        languageId: 'plaintext',
        uri: Uri.file('/w/a.workflow.yml'),
      },
    };
    assert.equal(activeWorkflowUri(), 'file:///w/a.workflow.yml');
    window.activeTextEditor = {
      document: { fileName: '/w/a.py', languageId: 'python', uri: Uri.file('/w/a.py') },
    };
    assert.equal(activeWorkflowUri(), undefined);
  });

  it('turns history file paths into URIs', () => {
    assert.equal(fileUri('/w/a.workflow.yml'), 'file:///w/a.workflow.yml');
    workspace.workspaceFolders = [{ uri: Uri.file('/ws') }];
    assert.equal(fileUri('flows/a.workflow.yml'), 'file:///ws/flows/a.workflow.yml');
  });
});
