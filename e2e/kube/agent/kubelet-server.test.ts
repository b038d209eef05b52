import { parseLogRequest, tail } from './kubelet-server.js';

describe('kubelet log endpoint', () => {
  it('parses the containerLogs path and options the API server sends', () => {
    expect(
      parseLogRequest(
        new URL('https://n/containerLogs/db/web-0/httpd?follow=true&tailLines=10&previous=true'),
      ),
    ).toEqual({
      namespace: 'db',
      pod: 'web-0',
      container: 'httpd',
      follow: true,
      previous: true,
      tailLines: 10,
      limitBytes: undefined,
    });
    expect(parseLogRequest(new URL('https://n/containerLogs/db/web-0'))?.container).toBeUndefined();
    expect(parseLogRequest(new URL('https://n/exec/db/web-0/httpd'))).toBeUndefined();
    expect(
      parseLogRequest(new URL('https://n/containerLogs/db/web-0/c?tailLines=-1'))?.tailLines,
    ).toBeUndefined();
  });
  it('tails whole lines', () => {
    expect(tail('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(tail('a\nb\nc', 1)).toBe('c');
    expect(tail('a\n', 5)).toBe('a\n');
    expect(tail('a\nb\n', 0)).toBe('');
  });
});
