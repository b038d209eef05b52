import { parseSegmentName, removableSegmentCount, segmentName } from './segment-name.js';

describe('segment names', () => {
  it('formats sortable names and parses them back', () => {
    const s = segmentName(3, 0x1f4);
    expect(s.fileName).toBe('0000000000000003-00000000000001f4.wal');
    expect(parseSegmentName(s.fileName)).toEqual(s);
    expect(segmentName(10, 1).fileName > segmentName(9, 500).fileName).toBe(true);
  });

  it('ignores other files', () => {
    expect(parseSegmentName('0000000000000003-00000000000001f4.wal.tmp')).toBeUndefined();
    expect(parseSegmentName('3-500.wal')).toBeUndefined();
    expect(parseSegmentName('LOCK')).toBeUndefined();
  });

  it('refuses negative or unsafe numbers', () => {
    expect(() => segmentName(-1, 1)).toThrow(RangeError);
    expect(() => segmentName(1, 2 ** 53)).toThrow(RangeError);
  });

  describe('removableSegmentCount', () => {
    const segs = [segmentName(0, 1), segmentName(1, 101), segmentName(2, 201), segmentName(3, 301)];

    it('removes the segments whose successor starts at or below index + 1', () => {
      expect(removableSegmentCount(segs, 99)).toBe(0);
      expect(removableSegmentCount(segs, 100)).toBe(1);
      expect(removableSegmentCount(segs, 250)).toBe(2);
      expect(removableSegmentCount(segs, 300)).toBe(3);
    });

    it('always keeps the last segment', () => {
      expect(removableSegmentCount(segs, 10_000)).toBe(3);
      expect(removableSegmentCount([segmentName(0, 1)], 10_000)).toBe(0);
    });

    it('uses the lowest later first index when an overwrite opened a segment below its predecessor', () => {
      // Segment 2 was opened by an append overwriting from index 95, so segment 1 (101..) has no live entries.
      const overwritten = [segmentName(0, 1), segmentName(1, 101), segmentName(2, 95)];
      expect(removableSegmentCount(overwritten, 94)).toBe(2);
      expect(removableSegmentCount(overwritten, 93)).toBe(0);
    });
  });
});
