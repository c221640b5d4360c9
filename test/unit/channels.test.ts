import { expect } from 'chai';
import { Channels } from '../../lib/queue/channels';

describe('queue/Channels', () => {
  it('is FIFO per channel, and put returns the new length', () => {
    const c = new Channels<number>();
    expect(c.put('db0', 1)).to.equal(1);
    expect(c.put('db0', 2)).to.equal(2);
    expect(c.put('db1', 10)).to.equal(1);
    expect(c.put('db0', 3)).to.equal(3);
    expect(c.take('db0')).to.equal(1);
    expect(c.take('db1')).to.equal(10);
    expect(c.take('db0')).to.equal(2);
    expect(c.length('db0')).to.equal(1);
    expect(c.take('db0')).to.equal(3);
    expect(c.length('db0')).to.equal(0);
  });

  it('take on an empty or unknown channel is undefined', () => {
    const c = new Channels<number>();
    expect(c.take('nowhere')).to.equal(undefined);
    c.put('db0', 1);
    c.take('db0');
    expect(c.take('db0')).to.equal(undefined);
    expect(c.length('nowhere')).to.equal(0);
  });

  it('keeps messages that are falsy', () => {
    const c = new Channels<unknown>();
    for (const m of [0, '', false, null]) c.put('x', m);
    expect([c.take('x'), c.take('x'), c.take('x'), c.take('x')]).to.deep.equal([0, '', false, null]);
    expect(c.length('x')).to.equal(0);
  });

  it('clear empties every channel and returns each count before', () => {
    const c = new Channels<number>();
    c.put('db0', 1);
    c.put('db0', 2);
    c.put('db1', 3);
    c.put('db2', 4);
    c.take('db2');
    const counts = c.clear();
    expect({ ...counts }).to.deep.equal({ db0: 2, db1: 1, db2: 0 });
    expect(c.take('db0')).to.equal(undefined);
    expect(c.length('db1')).to.equal(0);
    expect({ ...c.clear() }).to.deep.equal({});
  });

  it('clear reports channels named like Object.prototype members as ordinary channels', () => {
    const c = new Channels<number>();
    c.put('__proto__', 1);
    c.put('constructor', 2);
    c.put('constructor', 3);
    const counts = c.clear();
    expect(Object.hasOwn(counts, '__proto__')).to.equal(true);
    expect(counts['__proto__']).to.equal(1);
    expect(counts.constructor).to.equal(2);
  });

  it('keeps order across compaction, over more than 3000 messages with puts and takes interleaved', () => {
    const c = new Channels<number>();
    const taken: number[] = [];
    let next = 0;
    // Put 3, take 2, repeatedly: the head passes the compaction threshold many times.
    for (let round = 0; round < 2000; round++) {
      for (let k = 0; k < 3; k++) c.put('db0', next++);
      for (let k = 0; k < 2; k++) taken.push(c.take('db0')!);
      expect(c.length('db0')).to.equal(next - taken.length);
    }
    for (let m = c.take('db0'); m !== undefined; m = c.take('db0')) taken.push(m);
    expect(next).to.be.above(3000);
    expect(taken).to.deep.equal(Array.from({ length: next }, (_, k) => k));
  });

  it('drains 5000 messages put at once in order', () => {
    const c = new Channels<number>();
    for (let k = 0; k < 5000; k++) c.put('db3', k);
    for (let k = 0; k < 5000; k++) expect(c.take('db3')).to.equal(k);
    expect(c.take('db3')).to.equal(undefined);
    c.put('db3', 99);
    expect(c.take('db3')).to.equal(99);
  });
});
