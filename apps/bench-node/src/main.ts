/**
 * `pnpm bench [suite...] [--json FILE]` — the sdxs benchmark. Suites: `foundation` (safetensors read
 * throughput, half-float conversion, randn). Results are medians; the machine is printed with them.
 */
import { writeFile } from 'node:fs/promises';
import { describeMachine } from './machine.js';
import { runFoundation } from './suites/foundation.js';

const SUITES = { foundation: runFoundation } as const;
type SuiteName = keyof typeof SUITES;

function isSuite(s: string): s is SuiteName {
  return Object.hasOwn(SUITES, s);
}

async function main(argv: string[]): Promise<void> {
  let json: string | undefined;
  const suites: SuiteName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') {
      json = argv[++i];
      if (!json) throw new Error('--json needs a file name');
    } else if (isSuite(a)) suites.push(a);
    else throw new Error(`unknown argument ${a} (suites: ${Object.keys(SUITES).join(', ')}; options: --json FILE)`);
  }
  if (suites.length === 0) suites.push(...(Object.keys(SUITES) as SuiteName[]));
  const machine = describeMachine();
  const log = (s: string) => console.log(s);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`);
  const results: Record<string, unknown> = { machine };
  for (const s of suites) {
    log(`— ${s}`);
    results[s] = await SUITES[s](log);
  }
  if (json) {
    await writeFile(json, JSON.stringify(results, null, 2) + '\n');
    log(`wrote ${json}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
