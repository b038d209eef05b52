// The layout rules, as a pure function of the import graph, the build's input files and the lock file. Each rule
// keeps one promise of the tree: the operator talks to the datastore only through node/shared, nothing users run
// depends on test code or on the e2e harness, shared code depends on neither side, test support never ships, no
// folder imports its way back into itself, and `npm ci` works on every platform from the committed lock file.
import type { ImportGraph } from './import-graph.js';

export interface Violation {
  readonly rule: string;
  readonly detail: string;
}

/** Test files and the fixtures tests run: they may import anything. */
export function isTest(file: string): boolean {
  return /\.(test|fixture)\.ts$/.test(file);
}

/** Code that exists only for tests, benchmarks, CI and the e2e harness: never shipped, never imported by what is. */
export function isTestSupport(file: string): boolean {
  return /^(node\/testing|operator\/testing|node\/bench|node\/chaos|e2e|\.ci)\//.test(file) || isTest(file);
}

/** What users run: the node, the shared code, the operator, `npm start`'s scripts. */
function isShipped(file: string): boolean {
  return /^(node\/src|node\/shared|operator\/src|helm\/scripts)\//.test(file) && !isTest(file);
}

function edges(graph: ImportGraph): Array<[string, string]> {
  return [...graph].flatMap(([from, targets]) => [...targets].map((to): [string, string] => [from, to]));
}

export function importRuleViolations(graph: ImportGraph): Violation[] {
  const out: Violation[] = [];
  for (const [from, to] of edges(graph)) {
    if (isTest(from)) continue;
    const arrow = `${from} → ${to}`;
    if (from.startsWith('operator/') && to.startsWith('node/') && !to.startsWith('node/shared/'))
      out.push({ rule: 'the operator imports the datastore only through node/shared/', detail: arrow });
    if (from.startsWith('node/') && to.startsWith('operator/'))
      out.push({ rule: 'the datastore does not import the operator', detail: arrow });
    if (from.startsWith('node/shared/') && !to.startsWith('node/shared/'))
      out.push({ rule: 'node/shared/ imports nothing outside itself', detail: arrow });
    if (isShipped(from) && isTestSupport(to))
      out.push({ rule: 'what users run imports no test support and no e2e code', detail: arrow });
  }
  return out;
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan's algorithm. */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  // Iterative, so a long import chain cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; targets: string[]; i: number }> = [];
    const visit = (node: string): void => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, targets: [...(graph.get(node) ?? [])], i: 0 });
    };
    visit(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.targets.length) {
        const target = frame.targets[frame.i++]!;
        if (!index.has(target)) visit(target);
        else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1 || graph.get(frame.node)?.has(frame.node)) cycles.push(component.sort());
    }
  }
  return cycles;
}

/** The graph of folders: an arrow from folder A to B when a file of A imports a file of B. */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const folder = (file: string): string => file.slice(0, Math.max(0, file.lastIndexOf('/'))) || '.';
  const out = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const arrows = out.get(folder(from)) ?? new Set<string>();
    out.set(folder(from), arrows);
    for (const to of targets) if (folder(to) !== folder(from)) arrows.add(folder(to));
  }
  return out;
}

export function cycleViolations(graph: ImportGraph): Violation[] {
  // Tests sit beside their module and import it; only the code's own imports can form a cycle worth fixing.
  const code = new Map([...graph].filter(([file]) => !isTest(file)));
  return [
    ...importCycles(code).map((files) => ({
      rule: 'no import cycle between files',
      detail: files.join(' ↔ '),
    })),
    // A folder is one concept: a folder whose files import a folder that imports it back is a back-up arrow.
    ...importCycles(folderGraph(code)).map((folders) => ({
      rule: 'no import cycle between folders',
      detail: folders.join(' ↔ '),
    })),
  ];
}

/** The files the production build compiles (tsconfig.build.json) must hold no test support. */
export function buildViolations(buildFiles: readonly string[]): Violation[] {
  return buildFiles
    .filter((file) => isTestSupport(file) || /\/testing\//.test(file))
    .map((file) => ({ rule: 'test support is not compiled into dist/', detail: file }));
}

interface LockPackage {
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

/**
 * Every optional dependency in the lock file has its own entry, for every platform: npm ci refuses a lock that
 * lacks one ("Missing: @swc/core-darwin-x64 from lock file"), and an npm on another platform would install without it.
 */
export function lockViolations(lock: {
  readonly packages?: Readonly<Record<string, LockPackage>>;
}): Violation[] {
  const packages = lock.packages ?? {};
  const out: Violation[] = [];
  for (const [where, entry] of Object.entries(packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      // npm looks a dependency up in the nearest node_modules walking outwards, as Node does.
      const dirs =
        where === ''
          ? ['']
          : where.split('/node_modules/').map((_, i, all) => all.slice(0, i + 1).join('/node_modules/'));
      const found = [...dirs.reverse(), ''].some(
        (dir) => packages[`${dir === '' ? '' : `${dir}/`}node_modules/${name}`] !== undefined,
      );
      if (!found)
        out.push({
          rule: "the lock file lists every platform's optional packages",
          detail: `${name} (optional dependency of ${where || 'the root'})`,
        });
    }
  }
  return out;
}
