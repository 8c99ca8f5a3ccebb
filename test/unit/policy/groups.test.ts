import { describe, expect, it } from 'vitest';
import { Groups } from '../../../src/policy/groups.js';

describe('Groups', () => {
  const groups = new Groups({
    staff: { clients: ['10.1.0.0/16', '192.0.2.7', '2001:db8::/32'], users: ['alice'] },
    interns: { clients: ['10.2.0.0/16'], users: ['ivan'] },
    everyone: { clients: ['0.0.0.0/0'] },
  });
  it.each([
    ['10.1.200.3', undefined, ['staff', 'everyone']],
    ['::ffff:10.2.0.1', undefined, ['interns', 'everyone']],
    ['192.0.2.7', undefined, ['staff', 'everyone']],
    ['192.0.2.8', undefined, ['everyone']],
    ['2001:db8::1', undefined, ['staff']],
    ['2001:db9::1', 'ivan', ['interns']],
    ['10.9.0.1', 'alice', ['staff', 'everyone']],
  ])('%s / %s → %j', (ip, user, names) => {
    expect([...groups.of(ip, user)]).toEqual(names);
  });

  it('rejects a bad CIDR with the group name', () => {
    expect(() => new Groups({ g: { clients: ['10.0.0.0/33'] } })).toThrow('group g: invalid CIDR "10.0.0.0/33"');
  });

  it('answers the same for a client seen before, by address and user apart, and past the memo bound', () => {
    const g = new Groups({ staff: { clients: ['10.1.0.0/16'], users: ['alice'] }, lab: { clients: ['10.9.0.0/16'] } });
    expect([...g.of('10.1.2.3', undefined)]).toEqual(['staff']);
    expect([...g.of('10.1.2.3', undefined)]).toEqual(['staff']);
    expect([...g.of('10.9.0.1', 'alice')]).toEqual(['staff', 'lab']);
    expect([...g.of('10.9.0.1', undefined)]).toEqual(['lab']); // the user is part of the key
    for (let i = 0; i < 5000; i++) g.of(`10.${(i >> 8) & 255}.${i & 255}.1`, undefined); // over the 4096-entry bound
    expect([...g.of('10.1.2.3', undefined)]).toEqual(['staff']);
    expect([...g.of('192.0.2.1', 'bob')]).toEqual([]);
  });
});

