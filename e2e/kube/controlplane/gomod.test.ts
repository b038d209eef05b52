import { GoModError, parseGoMod, renderWrapperGoMod, stagingVersion, wrapperReplaces } from './gomod.js';

// A trimmed copy of the shape of k8s.io/kubernetes' go.mod: comments, a require block, godebug, a replace block.
const KUBERNETES_GOMOD = `// This is a generated file. Do not edit directly.
module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0 // indirect
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go // why: staging
	github.com/example/forked v1.0.0 => github.com/example/fork v1.0.1
)
`;

describe('parseGoMod', () => {
  it('reads module, go, godebug and every replace of a block', () => {
    const facts = parseGoMod(KUBERNETES_GOMOD);
    expect(facts.module).toBe('k8s.io/kubernetes');
    expect(facts.goVersion).toBe('1.24.0');
    expect(facts.godebug).toEqual(['default=go1.24']);
    expect(facts.replaces).toEqual([
      { from: 'k8s.io/api', fromVersion: undefined, to: './staging/src/k8s.io/api', toVersion: undefined },
      {
        from: 'k8s.io/client-go',
        fromVersion: undefined,
        to: './staging/src/k8s.io/client-go',
        toVersion: undefined,
      },
      {
        from: 'github.com/example/forked',
        fromVersion: 'v1.0.0',
        to: 'github.com/example/fork',
        toVersion: 'v1.0.1',
      },
    ]);
  });

  it('reads single-line replace and godebug directives', () => {
    const facts = parseGoMod('module m\ngo 1.22\ngodebug x509negativeserial=1\nreplace a => b v1.2.3\n');
    expect(facts.godebug).toEqual(['x509negativeserial=1']);
    expect(facts.replaces).toEqual([{ from: 'a', fromVersion: undefined, to: 'b', toVersion: 'v1.2.3' }]);
  });

  it('rejects an unterminated block, a missing module or go directive, and a malformed replace', () => {
    expect(() => parseGoMod('module m\ngo 1.22\nreplace (\n a => b v1\n')).toThrow(
      /ends inside a "replace \("/,
    );
    expect(() => parseGoMod('go 1.22\n')).toThrow(/no module directive/);
    expect(() => parseGoMod('module m\n')).toThrow(/no go directive/);
    expect(() => parseGoMod('module m\ngo 1.22\nreplace a b c\n')).toThrow(GoModError);
  });
});

describe('stagingVersion', () => {
  it('maps v1.MINOR.PATCH to v0.MINOR.PATCH', () => {
    expect(stagingVersion('v1.33.13')).toBe('v0.33.13');
    expect(stagingVersion('v1.34.2')).toBe('v0.34.2');
  });
  it('rejects pre-releases and non-v1 versions', () => {
    expect(() => stagingVersion('v1.34.0-rc.1')).toThrow(GoModError);
    expect(() => stagingVersion('1.33.0')).toThrow(GoModError);
  });
});

describe('wrapperReplaces', () => {
  it('points every staging module at its published version and keeps versioned replaces', () => {
    const out = wrapperReplaces(parseGoMod(KUBERNETES_GOMOD), 'v1.33.13');
    expect(out.map((r) => `${r.from} => ${r.to} ${r.toVersion ?? ''}`)).toEqual([
      'k8s.io/api => k8s.io/api v0.33.13',
      'k8s.io/client-go => k8s.io/client-go v0.33.13',
      'github.com/example/forked => github.com/example/fork v1.0.1',
    ]);
  });

  it('refuses local replaces outside staging and go.mods that are not Kubernetes', () => {
    expect(() =>
      wrapperReplaces(parseGoMod('module m\ngo 1.22\nreplace k8s.io/client-go => ../x\n'), 'v1.33.0'),
    ).toThrow(/outside staging/);
    expect(() => wrapperReplaces(parseGoMod('module m\ngo 1.22\n'), 'v1.33.0')).toThrow(
      /no k8s.io\/client-go/,
    );
  });
});

describe('renderWrapperGoMod', () => {
  it('writes a go.mod that go can read back with the same replaces', () => {
    const text = renderWrapperGoMod('example.local/wrapper', parseGoMod(KUBERNETES_GOMOD), 'v1.33.13');
    expect(text).toContain('require k8s.io/kubernetes v1.33.13\n');
    expect(text).toContain('godebug default=go1.24\n');
    const back = parseGoMod(text);
    expect(back.module).toBe('example.local/wrapper');
    expect(back.goVersion).toBe('1.24.0');
    expect(back.replaces).toHaveLength(3);
    expect(back.replaces[0]).toEqual({
      from: 'k8s.io/api',
      fromVersion: undefined,
      to: 'k8s.io/api',
      toVersion: 'v0.33.13',
    });
  });
});
