import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from '../coalesce';

describe('Coalescer', () => {
  it('runs a burst of requests at most twice', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const coalescer = new Coalescer(async () => {
      runs += 1;
      if (runs === 1) {
        await new Promise<void>((resolve) => (release = resolve));
      }
    });
    const first = coalescer.request();
    const burst = Array.from({ length: 10 }, () => coalescer.request());
    assert.equal(runs, 1);
    release();
    await Promise.all([first, ...burst]);
    assert.equal(runs, 2);
    await coalescer.request();
    assert.equal(runs, 3);
  });

  it('recovers after a failing task', async () => {
    let runs = 0;
    const coalescer = new Coalescer(async () => {
      runs += 1;
      if (runs === 1) {
        throw new Error('no');
      }
    });
    await assert.rejects(coalescer.request(), /no/);
    await coalescer.request();
    assert.equal(runs, 2);
  });
});
