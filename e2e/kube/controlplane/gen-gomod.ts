// CLI: gen-gomod.ts <kubernetes go.mod path> <kubernetes version> <wrapper module name>
// Prints the wrapper go.mod (see gomod.ts) to stdout; build.sh writes it into the build directory.
import { readFileSync } from 'node:fs';
import { parseGoMod, renderWrapperGoMod } from './gomod.js';

const [goModPath, version, wrapperModule] = process.argv.slice(2);
if (goModPath === undefined || version === undefined || wrapperModule === undefined) {
  process.stderr.write('usage: gen-gomod.ts <kubernetes go.mod> <v1.X.Y> <wrapper module>\n');
  process.exit(2);
}
process.stdout.write(renderWrapperGoMod(wrapperModule, parseGoMod(readFileSync(goModPath, 'utf8')), version));
