import type { Message } from '../../src/raft/index.js';
import { MAX_IN_FLIGHT_PER_LINK, Network, type NetworkFaults } from './network.js';
import { Prng } from '../../src/random/prng.js';

const calm: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  delayMaxMs: 5,
  longDelayRate: 0,
  longDelayMaxMs: 5,
};

function msg(from: string, to: string, index = 0): Message {
  return {
    type: 'heartbeat',
    from,
    to,
    term: 1,
    logTerm: 0,
    index,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

function drain(net: Network, until: number): Message[] {
  const out: Message[] = [];
  for (let t = 0; t <= until; t++) {
    for (let m = net.deliverDue(t, () => {}); m !== undefined; m = net.deliverDue(t, () => {})) out.push(m);
  }
  return out;
}

describe('Network', () => {
  test('a calm network delivers everything once, within the delay bound', () => {
    const net = new Network(new Prng(1), calm);
    for (let i = 0; i < 50; i++) expect(net.send(msg('n1', 'n2', i), 0)).toBe('queued');
    expect(net.nextDeliveryTime()).toBeLessThanOrEqual(5);
    expect(
      drain(net, 5)
        .map((m) => m.index)
        .sort((a, b) => a - b),
    ).toEqual([...Array(50).keys()]);
  });

  test('drops, duplicates and long delays (reordering) happen at their rates', () => {
    const net = new Network(new Prng(2), {
      dropRate: 0.2,
      duplicateRate: 0.2,
      delayMaxMs: 2,
      longDelayRate: 0.2,
      longDelayMaxMs: 100,
    });
    let dropped = 0;
    for (let i = 0; i < 400; i++) if (net.send(msg('n1', 'n2', i), 0) === 'dropped') dropped++;
    const got = drain(net, 200).map((m) => m.index);
    expect(dropped).toBeGreaterThan(40);
    expect(got.length).toBeGreaterThan(400 - dropped); // duplicates
    const reordered = got.some((x, i) => i > 0 && x < got[i - 1]!);
    expect(reordered).toBe(true);
  });

  test('a symmetric partition cuts both ways, a one-way cut only one, and messages on the wire too', () => {
    const net = new Network(new Prng(3), calm);
    net.send(msg('n1', 'n3'), 0);
    net.partition(['n1'], ['n2', 'n3']);
    expect(net.send(msg('n1', 'n2'), 0)).toBe('blocked');
    expect(net.send(msg('n3', 'n1'), 0)).toBe('blocked');
    expect(net.send(msg('n2', 'n3'), 0)).toBe('queued');
    const lost: Message[] = [];
    for (let t = 0; t <= 5; t++) while (net.deliverDue(t, (m) => lost.push(m)) !== undefined);
    expect(lost.map((m) => `${m.from}>${m.to}`)).toEqual(['n1>n3']);
    net.heal();
    net.block('n2', 'n1');
    expect(net.send(msg('n2', 'n1'), 0)).toBe('blocked');
    expect(net.send(msg('n1', 'n2'), 0)).toBe('queued');
  });

  test('an isolated member is cut off both ways until it rejoins; healing the partition does not end it', () => {
    const net = new Network(new Prng(5), calm);
    net.send(msg('n2', 'n1'), 0);
    net.partition(['n3'], ['n4']);
    net.isolate('n1');
    expect(net.send(msg('n1', 'n2'), 0)).toBe('blocked');
    expect(net.isBlocked('n3', 'n1')).toBe(true);
    expect(net.send(msg('n2', 'n3'), 0)).toBe('queued');
    const lost: Message[] = [];
    for (let t = 0; t <= 5; t++) while (net.deliverDue(t, (m) => lost.push(m)) !== undefined);
    expect(lost.map((m) => `${m.from}>${m.to}`)).toEqual(['n2>n1']);
    net.heal();
    expect(net.isBlocked('n3', 'n4')).toBe(false);
    expect(net.isBlocked('n2', 'n1')).toBe(true);
    net.rejoin('n1');
    expect(net.send(msg('n1', 'n2'), 6)).toBe('queued');
    net.isolate('n2');
    net.healAll();
    expect(net.isBlocked('n1', 'n2')).toBe(false);
  });

  test('a link holds at most MAX_IN_FLIGHT_PER_LINK messages; the rest are dropped', () => {
    const net = new Network(new Prng(4), calm);
    let queued = 0;
    for (let i = 0; i < MAX_IN_FLIGHT_PER_LINK + 10; i++)
      if (net.send(msg('n1', 'n2', i), 0) === 'queued') queued++;
    expect(queued).toBe(MAX_IN_FLIGHT_PER_LINK);
    expect(net.send(msg('n1', 'n3'), 0)).toBe('queued');
    drain(net, 5);
    expect(net.send(msg('n1', 'n2'), 6)).toBe('queued');
  });
});
