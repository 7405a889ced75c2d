/**
 * The golden runner: `pnpm golden <case-dir>... [--write FILE]`.
 * Runs the project's implementation on ../shared/golden-format case folders, prints each output's max
 * absolute and relative error, and exits 0 when every case passes, 1 on a mismatch, 2 when a case's
 * kind is not supported yet. `--write FILE` saves what was computed (one case) as safetensors.
 */
import { castForWrite, formatReport } from './golden/report.js';
import { runCase, type CaseReport } from './golden/run.js';
import { writeSafetensorsFile } from '@sdxs/tensor/node';

function usage(): never {
  console.error('usage: pnpm golden <case-dir>... [--write FILE]');
  process.exit(64);
}

async function main(argv: string[]): Promise<number> {
  const dirs: string[] = [];
  let write: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--write') write = argv[++i] ?? usage();
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('-')) {
      console.error(`unknown option ${a}`);
      usage();
    } else dirs.push(a);
  }
  if (dirs.length === 0) usage();
  if (write && dirs.length !== 1) {
    console.error('--write takes exactly one case folder');
    return 64;
  }
  const reports: CaseReport[] = [];
  for (const dir of dirs) {
    const r = await runCase(dir);
    reports.push(r);
    console.log(formatReport(r));
    if (write && r.status !== 'unsupported') {
      await writeSafetensorsFile(write, castForWrite(r), { case: r.case.name, kind: r.case.kind, producer: 'sdxs golden runner' });
      console.log(`wrote ${write}`);
    }
  }
  if (reports.some((r) => r.status === 'fail')) return 1;
  if (reports.some((r) => r.status === 'unsupported')) return 2;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`golden: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
