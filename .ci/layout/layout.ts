// Reads the repository as it stands (git's file list, the build's tsconfig, the lock file) and applies the layout
// rules. Used by the test beside it (so `npm test` keeps the tree honest) and by `npm run check:layout`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { readImportGraph } from './import-graph.js';
import {
  buildViolations,
  cycleViolations,
  importRuleViolations,
  lockViolations,
  type Violation,
} from './rules.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Tracked and untracked-but-not-ignored files, as git lists them. */
export function repositoryFiles(root: string = REPO): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.split('\0').filter((f) => f !== '' && !f.startsWith('node_modules/'));
}

/** The files `tsc -p tsconfig.build.json` compiles, repository-relative. */
export function buildInputs(root: string = REPO): string[] {
  const configPath = path.join(root, 'tsconfig.build.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error !== undefined)
    throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
  return parsed.fileNames.map((f) => path.relative(root, f).split(path.sep).join('/'));
}

export function layoutViolations(root: string = REPO): Violation[] {
  const files = repositoryFiles(root).filter((f) => !f.startsWith('dist/'));
  const graph = readImportGraph(root, files);
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Parameters<
    typeof lockViolations
  >[0];
  return [
    ...importRuleViolations(graph),
    ...cycleViolations(graph),
    ...buildViolations(buildInputs(root)),
    ...lockViolations(lock),
  ];
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const violations = layoutViolations();
  for (const v of violations) process.stdout.write(`${v.rule}: ${v.detail}\n`);
  process.stdout.write(
    violations.length === 0 ? 'layout: ok\n' : `layout: ${violations.length} violation(s)\n`,
  );
  process.exitCode = violations.length === 0 ? 0 : 1;
}
