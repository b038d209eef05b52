import { describe, expect, it } from '@jest/globals';
import {
  BASE_DATA_FORMAT,
  dataFormatFeature,
  dataFormatOfVersion,
  MAX_DATA_FORMAT,
  reportedDataFormat,
} from './data-format.js';

describe('data formats', () => {
  it('knows which release line introduced which format', () => {
    expect(dataFormatOfVersion('0.1.0')).toBe(BASE_DATA_FORMAT);
    expect(dataFormatOfVersion('0.1.9')).toBe(1);
    expect(dataFormatOfVersion('0.2.0-rc.1')).toBe(2);
    expect(dataFormatOfVersion('0.2.0')).toBe(2);
    expect(dataFormatOfVersion('0.3.4')).toBe(2);
    expect(dataFormatOfVersion('1.0.0')).toBe(MAX_DATA_FORMAT);
    expect(dataFormatOfVersion('latest')).toBeUndefined();
  });

  it('reads a member that reports no format as the base format', () => {
    expect(reportedDataFormat(0)).toBe(BASE_DATA_FORMAT);
    expect(reportedDataFormat(2)).toBe(2);
  });

  it('names what a format adds', () => {
    expect(dataFormatFeature(2)).toMatch(/compressed snapshots/);
    expect(dataFormatFeature(1)).toBe('');
  });
});
