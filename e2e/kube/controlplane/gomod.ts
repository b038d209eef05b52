// Generates the go.mod of the wrapper module that builds Kubernetes' binaries from k8s.io/kubernetes.
//
// k8s.io/kubernetes requires its ~31 staging modules (k8s.io/api, k8s.io/client-go, ...) at the placeholder version
// v0.0.0 and points them at ./staging/src/... with `replace`. Replace directives of a dependency are ignored by Go, so
// a module that depends on k8s.io/kubernetes must restate every one of them against the published v0.<minor>.<patch>
// tags. The list is derived here from the release's own go.mod so it can never drift from the release.

/** One `replace` directive: `from [fromVersion] => to [toVersion]`. A `to` without version is a local path. */
export interface Replace {
  readonly from: string;
  readonly fromVersion: string | undefined;
  readonly to: string;
  readonly toVersion: string | undefined;
}

/** The parts of a go.mod that the wrapper module must copy. */
export interface GoModFacts {
  readonly module: string;
  readonly goVersion: string;
  /** `godebug` settings (e.g. `default=go1.24`): they apply only in the main module, so the wrapper restates them. */
  readonly godebug: readonly string[];
  readonly replaces: readonly Replace[];
}

export class GoModError extends Error {
  override readonly name = 'GoModError';
}

const MAX_GOMOD_BYTES = 1 << 20;

/** Strips a `//` comment. go.mod has no string literals containing `//` in the directives we read. */
function stripComment(line: string): string {
  const at = line.indexOf('//');
  return (at === -1 ? line : line.slice(0, at)).trim();
}

function parseReplace(body: string, lineNo: number): Replace {
  const sides = body.split('=>');
  if (sides.length !== 2)
    throw new GoModError(`go.mod line ${lineNo}: replace without a single "=>": ${body}`);
  const left = (sides[0] ?? '').trim().split(/\s+/);
  const right = (sides[1] ?? '').trim().split(/\s+/);
  if (
    left.length < 1 ||
    left.length > 2 ||
    left[0] === '' ||
    right.length < 1 ||
    right.length > 2 ||
    right[0] === ''
  ) {
    throw new GoModError(`go.mod line ${lineNo}: malformed replace: ${body}`);
  }
  return { from: left[0] as string, fromVersion: left[1], to: right[0] as string, toVersion: right[1] };
}

/** Parses the module, go, godebug and replace directives (single-line and block forms) of a go.mod. */
export function parseGoMod(text: string): GoModFacts {
  if (text.length > MAX_GOMOD_BYTES)
    throw new GoModError(`go.mod is ${text.length} bytes, more than ${MAX_GOMOD_BYTES}`);
  let module: string | undefined;
  let goVersion: string | undefined;
  const godebug: string[] = [];
  const replaces: Replace[] = [];
  let block: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i] ?? '');
    if (line === '') continue;
    if (block !== undefined) {
      if (line === ')') {
        block = undefined;
      } else if (block === 'replace') {
        replaces.push(parseReplace(line, i + 1));
      } else if (block === 'godebug') {
        godebug.push(line);
      }
      continue;
    }
    const blockOpen = /^(\w+)\s*\($/.exec(line);
    if (blockOpen) {
      block = blockOpen[1];
      continue;
    }
    const [verb, ...rest] = line.split(/\s+/);
    const arg = rest.join(' ');
    if (verb === 'module') module = arg;
    else if (verb === 'go') goVersion = arg;
    else if (verb === 'godebug') godebug.push(arg);
    else if (verb === 'replace') replaces.push(parseReplace(arg, i + 1));
  }
  if (block !== undefined) throw new GoModError(`go.mod ends inside a "${block} (" block`);
  if (module === undefined) throw new GoModError('go.mod has no module directive');
  if (goVersion === undefined) throw new GoModError('go.mod has no go directive');
  return { module, goVersion, godebug, replaces };
}

/** Kubernetes v1.<minor>.<patch> publishes its staging modules as v0.<minor>.<patch>. */
export function stagingVersion(kubernetesVersion: string): string {
  const m = /^v1\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (!m)
    throw new GoModError(`not a Kubernetes release version (want v1.MINOR.PATCH): ${kubernetesVersion}`);
  return `v0.${m[1]}.${m[2]}`;
}

const STAGING_PREFIX = './staging/src/';

/**
 * The replace list a dependent module needs: each local `./staging/src/<path>` target becomes the published module
 * at the staging version; replaces that already point at a published version are carried over unchanged.
 */
export function wrapperReplaces(facts: GoModFacts, kubernetesVersion: string): Replace[] {
  const version = stagingVersion(kubernetesVersion);
  const out: Replace[] = [];
  for (const r of facts.replaces) {
    if (r.toVersion !== undefined) {
      out.push(r);
      continue;
    }
    if (!r.to.startsWith(STAGING_PREFIX)) {
      throw new GoModError(
        `replace ${r.from} => ${r.to} points at a local path outside staging; cannot restate it`,
      );
    }
    const target = r.to.slice(STAGING_PREFIX.length);
    if (target !== r.from)
      throw new GoModError(`replace ${r.from} => ${r.to}: staging directory names another module`);
    out.push({ from: r.from, fromVersion: undefined, to: r.from, toVersion: version });
  }
  if (!out.some((r) => r.from === 'k8s.io/client-go')) {
    throw new GoModError('no k8s.io/client-go replace found: is this the go.mod of k8s.io/kubernetes?');
  }
  return out;
}

function renderReplace(r: Replace): string {
  const left = r.fromVersion === undefined ? r.from : `${r.from} ${r.fromVersion}`;
  const right = r.toVersion === undefined ? r.to : `${r.to} ${r.toVersion}`;
  return `\t${left} => ${right}`;
}

/** The wrapper module's go.mod: requires k8s.io/kubernetes at the release and restates its replaces. */
export function renderWrapperGoMod(
  wrapperModule: string,
  facts: GoModFacts,
  kubernetesVersion: string,
): string {
  const replaces = wrapperReplaces(facts, kubernetesVersion);
  const lines = [
    `// Generated by e2e/kube/controlplane/gen-gomod.ts from the go.mod of ${facts.module}@${kubernetesVersion}.`,
    `module ${wrapperModule}`,
    '',
    `go ${facts.goVersion}`,
    '',
    ...facts.godebug.map((d) => `godebug ${d}`),
    ...(facts.godebug.length > 0 ? [''] : []),
    `require ${facts.module} ${kubernetesVersion}`,
    '',
    'replace (',
    ...replaces.map(renderReplace),
    ')',
    '',
  ];
  return lines.join('\n');
}
