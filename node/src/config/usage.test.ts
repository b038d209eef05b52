import { OPTION_KEYS, OPTIONS } from '../../shared/config/options.js';
import { usage } from './usage.js';

describe('usage', () => {
  const text = usage('raftstore-node');

  it('lists every flag with its variable and default', () => {
    for (const key of OPTION_KEYS) {
      const spec = OPTIONS[key];
      expect(text).toContain(`${spec.flag}=${spec.valueName}  (${spec.env})`);
    }
    expect(text).toContain('[default 0.0.0.0:2379]');
    expect(text).toContain('[required]');
    expect(text).toContain('--help, -h');
  });

  it('keeps lines within 100 columns apart from the flag lines', () => {
    const long = text.split('\n').filter((l) => l.length > 100 && !l.startsWith('  --'));
    expect(long).toEqual([]);
  });
});

describe('option table', () => {
  it('uses the RAFTSTORE_ variable spelled like the flag', () => {
    for (const key of OPTION_KEYS) {
      const spec = OPTIONS[key];
      expect(spec.env).toBe(`RAFTSTORE_${spec.flag.slice(2).toUpperCase().replaceAll('-', '_')}`);
    }
  });

  it('has defaults that its own parsers accept', () => {
    for (const key of OPTION_KEYS) {
      const spec = OPTIONS[key] as { defaultValue?: string; parse: (raw: string) => { ok: boolean } };
      if (spec.defaultValue !== undefined)
        expect([key, spec.parse(spec.defaultValue).ok]).toEqual([key, true]);
    }
  });
});
