import { CopyCursors, pageProblem, type PageStart } from './copy-cursors.js';

const b = (text: string): Uint8Array => new TextEncoder().encode(text);
const first: PageStart = { kind: 'first' };
const after = (key: string): PageStart => ({ kind: 'after', key: b(key) });

describe('CopyCursors', () => {
  it('advances page by page from the first key', () => {
    const cursors = new CopyCursors();
    expect(cursors.of(4)).toBeUndefined();
    expect(cursors.advance(4, first, b('c'))).toBe(true);
    expect(cursors.advance(4, after('c'), b('f'))).toBe(true);
    expect(cursors.of(4)).toEqual(b('f'));
    expect(cursors.of(5)).toBeUndefined(); // another import's copy has not started
  });

  it('moves over a page that overlaps what is in, never back over a repeated or older one', () => {
    const cursors = new CopyCursors();
    cursors.advance(2, first, b('f'));
    expect(cursors.advance(2, first, b('c'))).toBe(false); // a first page sent again
    expect(cursors.advance(2, after('c'), b('f'))).toBe(false); // a page already applied
    expect(cursors.of(2)).toEqual(b('f'));
    expect(cursors.advance(2, after('d'), b('k'))).toBe(true); // starts before the cursor: (f, k] is in now
    expect(cursors.of(2)).toEqual(b('k'));
  });

  it('does not move over a gap: a page that starts beyond the cursor leaves it where it was', () => {
    const cursors = new CopyCursors();
    expect(cursors.advance(3, after('c'), b('f'))).toBe(false); // nothing is in yet: (start, c] may be missing
    expect(cursors.of(3)).toBeUndefined();
    cursors.advance(3, first, b('c'));
    expect(cursors.advance(3, after('d'), b('k'))).toBe(false); // (c, d] may be missing
    expect(cursors.of(3)).toEqual(b('c'));
    expect(cursors.advance(3, { kind: 'unknown' }, b('z'))).toBe(false); // an older entry: position unknown
    expect(cursors.of(3)).toEqual(b('c'));
  });

  it('forgets an import’s cursor when it is cleared, and lists in epoch order', () => {
    const cursors = new CopyCursors();
    cursors.advance(9, first, b('x'));
    cursors.advance(2, first, b('a'));
    expect(cursors.toList()).toEqual([
      { epoch: 2, key: b('a') },
      { epoch: 9, key: b('x') },
    ]);
    expect(CopyCursors.fromList(cursors.toList()).toList()).toEqual(cursors.toList());
    cursors.clear(9);
    expect(cursors.of(9)).toBeUndefined();
    expect(cursors.size).toBe(1);
  });
});

describe('pageProblem', () => {
  it('accepts what an export produces: strictly ascending keys after the start', () => {
    expect(pageProblem(first, [b('a'), b('b')])).toBeUndefined();
    expect(pageProblem(after('a'), [b('a\0'), b('b')])).toBeUndefined();
    expect(pageProblem(after('a'), [])).toBeUndefined();
  });

  it('refuses keys out of order, repeated, or not after the start', () => {
    expect(pageProblem(first, [b('b'), b('a')])).toMatch(/not in strictly ascending order \(key 1\)/);
    expect(pageProblem(first, [b('a'), b('a')])).toMatch(/not in strictly ascending order/);
    expect(pageProblem(after('b'), [b('b')])).toMatch(/first key is not after/);
    expect(pageProblem(after('b'), [b('a'), b('c')])).toMatch(/first key is not after/);
  });

  it('checks nothing for an older entry that does not say where it starts', () => {
    expect(pageProblem({ kind: 'unknown' }, [b('b'), b('a')])).toBeUndefined();
  });
});
