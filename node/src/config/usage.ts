// The --help text, generated from the option table so it always lists exactly the flags the parser accepts.

import { OPTION_KEYS, OPTIONS, type OptionSpec } from '../../shared/config/options.js';

const WRAP_COLUMNS = 100;
const INDENT = '      ';

export function usage(program = 'raftstore-node'): string {
  const lines = [
    `Usage: ${program} [flags]`,
    '',
    'A member of one shard of a raftstore cluster. Every flag may instead be set by its environment',
    'variable; a flag given on the command line wins over the variable.',
    '',
    'Flags:',
  ];
  for (const key of OPTION_KEYS) {
    const spec: OptionSpec<unknown> = OPTIONS[key];
    lines.push(`  ${spec.flag}=${spec.valueName}  (${spec.env})`);
    const notes: string[] = [];
    if (spec.required === true) notes.push('required');
    if (spec.defaultValue !== undefined) notes.push(`default ${spec.defaultValue}`);
    const help = notes.length > 0 ? `${spec.help} [${notes.join('; ')}]` : spec.help;
    lines.push(...wrap(help, WRAP_COLUMNS - INDENT.length).map((l) => INDENT + l));
  }
  lines.push('  --help, -h', `${INDENT}print this text and exit`);
  return lines.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') out.push(line);
  return out;
}
