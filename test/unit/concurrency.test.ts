import { expect } from 'chai';
import { KeyedMutex } from '../../lib/util/keyedMutex';
import { SingleFlight } from '../../lib/util/singleFlight';
import { deferred, settle } from './helpers';

/** A task whose runs are started and finished by the test. */
function controlledTask() {
  const runs: { startedAfter: number; done: ReturnType<typeof deferred<number>> }[] = [];
  let clock = 0;
  const tick = () => ++clock;
  const task = () => {
    const done = deferred<number>();
    runs.push({ startedAfter: clock, done });
    return done.promise;
  };
  return { runs, task, tick };
}

describe('util/SingleFlight', () => {
  it('a call with no run under way starts one at once', async () => {
    const { runs, task } = controlledTask();
    const sf = new SingleFlight(task);
    const p = sf.run();
    expect(runs).to.have.length(1);
    runs[0].done.resolve(7);
    expect(await p).to.equal(7);
  });

  it('a call made during a run gets the next run, which starts after the current one ends', async () => {
    const { runs, task, tick } = controlledTask();
    const sf = new SingleFlight(task);
    const first = sf.run();
    const calledAt = tick();
    const second = sf.run();
    await settle();
    expect(runs, 'the second caller must not start a run while one is under way').to.have.length(1);
    runs[0].done.resolve(1);
    expect(await first).to.equal(1);
    await settle();
    expect(runs).to.have.length(2);
    expect(runs[1].startedAfter, 'the run the second caller gets began after it called').to.be.at.least(calledAt);
    runs[1].done.resolve(2);
    expect(await second).to.equal(2);
  });

  it('N concurrent callers cause at most two runs, and all during-run callers share the second', async () => {
    const { runs, task } = controlledTask();
    const sf = new SingleFlight(task);
    const first = sf.run();
    const others = Array.from({ length: 50 }, () => sf.run());
    await settle();
    runs[0].done.resolve(1);
    await settle();
    expect(runs).to.have.length(2);
    runs[1].done.resolve(2);
    expect(await first).to.equal(1);
    expect(await Promise.all(others)).to.deep.equal(new Array(50).fill(2));
    expect(runs).to.have.length(2);
  });

  it('a call after everything settled starts a fresh run', async () => {
    let n = 0;
    const sf = new SingleFlight(async () => ++n);
    expect(await sf.run()).to.equal(1);
    expect(await sf.run()).to.equal(2);
    expect(await Promise.all([sf.run(), sf.run(), sf.run()])).to.deep.equal([3, 4, 4]);
  });

  it('a failed run rejects its callers but does not poison later runs', async () => {
    const { runs, task } = controlledTask();
    const sf = new SingleFlight(task);
    const first = sf.run();
    const second = sf.run();
    runs[0].done.reject(new Error('boom'));
    let error: unknown;
    await first.catch((e) => (error = e));
    expect((error as Error).message).to.equal('boom');
    await settle();
    expect(runs, 'the next run still starts after a failure').to.have.length(2);
    runs[1].done.resolve(5);
    expect(await second).to.equal(5);
    const third = sf.run();
    runs[2].done.resolve(6);
    expect(await third).to.equal(6);
  });

  it('a caller that arrives during the second run gets a third run, never one that began before it called', async () => {
    const { runs, task, tick } = controlledTask();
    const sf = new SingleFlight(task);
    sf.run();
    const second = sf.run();
    runs[0].done.resolve(1);
    await settle();
    expect(runs).to.have.length(2);
    const calledAt = tick();
    const third = sf.run();
    expect(third).to.not.equal(second);
    runs[1].done.resolve(2);
    await settle();
    expect(runs).to.have.length(3);
    expect(runs[2].startedAfter).to.be.at.least(calledAt);
    runs[2].done.resolve(3);
    expect(await third).to.equal(3);
  });
});

describe('util/KeyedMutex', () => {
  it('runs tasks of one key one at a time, in arrival order', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    const task = (name: string) => async () => {
      running++;
      expect(running, 'two tasks of one key overlapped').to.equal(1);
      log.push(`start ${name}`);
      await settle();
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((n) => m.run('k', task(n))));
    expect(results).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(log).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d']);
  });

  it('runs tasks of different keys in parallel', async () => {
    const m = new KeyedMutex();
    const gateA = deferred();
    const startedB = deferred();
    const a = m.run('a', async () => {
      await gateA.promise;
      return 'a';
    });
    const b = m.run('b', async () => {
      startedB.resolve();
      return 'b';
    });
    // b must finish while a is still blocked.
    expect(await b).to.equal('b');
    await startedB.promise;
    gateA.resolve();
    expect(await a).to.equal('a');
  });

  it('a failing task rejects its own caller only; the next task of the key still runs', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const failing = m.run('k', async () => {
      order.push('fail');
      throw new Error('boom');
    });
    const syncThrow = m.run('k', () => {
      order.push('sync');
      throw new Error('sync boom');
    });
    const next = m.run('k', async () => {
      order.push('next');
      return 42;
    });
    let e1: unknown;
    let e2: unknown;
    await failing.catch((e) => (e1 = e));
    await syncThrow.catch((e) => (e2 = e));
    expect((e1 as Error).message).to.equal('boom');
    expect((e2 as Error).message).to.equal('sync boom');
    expect(await next).to.equal(42);
    expect(order).to.deep.equal(['fail', 'sync', 'next']);
  });

  it('size counts keys with work queued and returns to 0, also after failures', async () => {
    const m = new KeyedMutex();
    expect(m.size).to.equal(0);
    const gate = deferred();
    const p1 = m.run('a', () => gate.promise);
    const p2 = m.run('a', async () => undefined);
    const p3 = m.run('b', async () => {
      throw new Error('x');
    });
    expect(m.size).to.equal(2);
    gate.resolve();
    await Promise.all([p1, p2, p3.catch(() => undefined)]);
    await settle();
    expect(m.size).to.equal(0);
  });

  it('a task queued while another key is busy does not wait for it', async () => {
    const m = new KeyedMutex();
    const gate = deferred();
    const slow = m.run('slow', () => gate.promise);
    const results: number[] = [];
    for (let k = 0; k < 10; k++) results.push(await m.run(`k${k}`, async () => k));
    expect(results).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    gate.resolve();
    await slow;
  });

  describe('runAll', () => {
    it('starts after every earlier task of any of its keys, and later tasks of those keys wait for it', async () => {
      const m = new KeyedMutex();
      const log: string[] = [];
      const gateA = deferred();
      const gateB = deferred();
      const a = m.run('a', async () => {
        await gateA.promise;
        log.push('a');
      });
      const b = m.run('b', async () => {
        await gateB.promise;
        log.push('b');
      });
      const both = m.runAll(['a', 'b'], async () => {
        log.push('both');
        await settle();
        log.push('both done');
        return 'both';
      });
      const laterA = m.run('a', async () => log.push('later a'));
      const laterC = m.run('c', async () => log.push('c'));
      await laterC;
      expect(log, 'an unrelated key waited').to.deep.equal(['c']);
      gateB.resolve();
      await b;
      await settle();
      expect(log, 'runAll started while key a was still held').to.deep.equal(['c', 'b']);
      gateA.resolve();
      expect(await both).to.equal('both');
      await Promise.all([a, laterA]);
      expect(log).to.deep.equal(['c', 'b', 'a', 'both', 'both done', 'later a']);
    });

    it('two multi-key tasks over the same keys in opposite orders both finish, one after the other', async () => {
      const m = new KeyedMutex();
      let running = 0;
      const task = (name: string) => async () => {
        running++;
        expect(running, 'two tasks sharing a key overlapped').to.equal(1);
        await settle();
        running--;
        return name;
      };
      const results = await Promise.all([m.runAll(['a', 'b'], task('ab')), m.runAll(['b', 'a'], task('ba')), m.runAll(['b', 'b'], task('bb'))]);
      expect(results).to.deep.equal(['ab', 'ba', 'bb']);
      expect(m.size).to.equal(0);
    });

    it('with no keys runs at once; a failure rejects its caller only and frees its keys', async () => {
      const m = new KeyedMutex();
      expect(await m.runAll([], async () => 7)).to.equal(7);
      const failing = m.runAll(['a', 'b'], () => {
        throw new Error('boom');
      });
      const next = m.run('b', async () => 'next');
      expect(await failing.catch((e: Error) => e.message)).to.equal('boom');
      expect(await next).to.equal('next');
      await settle();
      expect(m.size).to.equal(0);
    });
  });
});
