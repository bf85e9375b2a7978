// Entry point of the `medseg` executable: dispatches to one command of the table.
import { commands } from './commands.js';
import { UsageError } from './command.js';

function usage(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  return `usage: medseg <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nmedseg <command> --help for a command's options`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`medseg: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest);
  } catch (err) {
    // node:util parseArgs' own errors (unknown option, missing value) are usage errors too
    const parseArgsError = String((err as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || parseArgsError) {
      console.error(`medseg ${name}: ${(err as Error).message}`);
      return 2;
    }
    const e = err as Error;
    console.error(`medseg ${name}: ${e.message ?? String(err)}`);
    if (process.env.MEDSEG_DEBUG) console.error(e.stack);
    return 1;
  }
}
