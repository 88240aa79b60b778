/** The executions a debug session follows (debug/chain.ts), over the channel the extension
 * feeds with the server's notifications. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionChain } from '../debug/chain';
import { ClientChannel } from '../debug/serverChannel';
import { EngineEvent, Notifications } from '../protocol';

function event(executionId: string, name: string): [string, unknown] {
  return [Notifications.executionEvent, { executionId, event: { event: name } }];
}

describe('ExecutionChain', () => {
  const unused = () => Promise.reject(new Error('no requests here'));

  it('follows the execution a start names, with the events sent before its answer', async () => {
    const channel = new ClientChannel(unused);
    const seen: EngineEvent[] = [];
    const chain = new ExecutionChain(channel, (e) => seen.push(e));
    const id = await chain.start(async () => {
      channel.dispatch(...event('e1', 'execution_started'));
      channel.dispatch(...event('other', 'execution_started'));
      return 'e1';
    });
    assert.equal(id, 'e1');
    channel.dispatch(...event('e1', 'node_started'));
    channel.dispatch(...event('other', 'node_started'));
    assert.deepEqual(
      seen.map((e) => e.event),
      ['execution_started', 'node_started'],
    );
  });

  it('moves on to the resumed execution and stops listening when disposed', async () => {
    const channel = new ClientChannel(unused);
    const seen: string[] = [];
    const chain = new ExecutionChain(channel, (e) => seen.push(e.event));
    await chain.start(async () => 'e1');
    await chain.start(async () => 'e2');
    channel.dispatch(...event('e1', 'late'));
    channel.dispatch(...event('e2', 'node_started'));
    chain.dispose();
    channel.dispatch(...event('e2', 'node_finished'));
    assert.deepEqual(seen, ['node_started']);
    assert.equal(chain.current, 'e2');
  });

  it('follows nothing new when the start is refused', async () => {
    const channel = new ClientChannel(unused);
    const chain = new ExecutionChain(channel, () => assert.fail('no events expected'));
    await assert.rejects(
      chain.start(() => Promise.reject(new Error('refused'))),
      /refused/,
    );
    channel.dispatch(...event('e1', 'node_started'));
    assert.equal(chain.current, undefined);
  });
});
