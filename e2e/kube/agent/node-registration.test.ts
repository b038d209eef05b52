import { microTime } from './node-registration.js';

describe('node registration', () => {
  it('formats lease times as MicroTime (six fractional digits)', () => {
    expect(microTime(Date.parse('2026-11-22T03:33:03.454Z'))).toBe('2026-11-22T03:33:03.454000Z');
    expect(microTime(Date.parse('2026-11-22T03:33:03Z'))).toBe('2026-11-22T03:33:03.000000Z');
  });
});
