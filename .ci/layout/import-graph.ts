// The repository's import graph, read from the sources with TypeScript's own pre-processor (no type checking, so
// the whole tree is read in about a second). Only relative imports are edges: packages are not part of the layout.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** file → the files it imports, both repository-relative with forward slashes. */
export type ImportGraph = ReadonlyMap<string, ReadonlySet<string>>;

const SOURCE = /\.(ts|mts|mjs|js)$/;

/** Resolves a relative specifier the way NodeNext does for our sources (`./x.js` names `./x.ts`). */
function resolve(root: string, from: string, specifier: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    `${base}/index.ts`,
  ];
  return candidates.find((c) => existsSync(path.join(root, c)) && SOURCE.test(c));
}

/** Builds the graph of `files` (repository-relative); imports that name no file of the repository are dropped. */
export function readImportGraph(root: string, files: readonly string[]): ImportGraph {
  const graph = new Map<string, Set<string>>();
  for (const file of files.filter((f) => SOURCE.test(f))) {
    const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolve(root, file, ref.fileName);
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, targets);
  }
  return graph;
}
