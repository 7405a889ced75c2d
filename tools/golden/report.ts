import { castTensor, Tensor } from '@sdxs/tensor';
import type { CaseReport } from './run.js';

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}

/** One line per output: name, max abs error, max error relative to the output's scale, tolerance, verdict. */
export function formatReport(r: CaseReport): string {
  const head = `${r.case.name} (${r.case.kind}): ${r.status.toUpperCase()}`;
  if (r.status === 'unsupported') return `${head} — kind "${r.case.kind}" is not implemented yet`;
  const lines = [`${head} in ${r.seconds.toFixed(2)} s`, ...r.notes.map((n) => `  note: ${n}`)];
  for (const c of r.comparisons) {
    if (c.tolerance.zero) {
      const { scale, of } = c.tolerance.zero;
      lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.output}: structurally zero: ${c.ok ? 'ok' : 'not at noise level'} (noise ${fmt(c.noise ?? NaN)} vs module scale ${fmt(scale)} of ${of}, rel ≤ ${c.tolerance.relative})`);
      continue;
    }
    const tol = c.tolerance.exact ? 'bit-exact' : [c.tolerance.absolute !== undefined ? `abs ≤ ${c.tolerance.absolute}` : '', c.tolerance.relative !== undefined ? `rel ≤ ${c.tolerance.relative}` : ''].filter(Boolean).join(', ');
    const extra = c.problem ?? (c.tolerance.exact ? `${c.mismatched} differing` : '');
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.output}: max abs ${fmt(c.maxAbs)}, max rel ${fmt(c.maxRel)} (${tol})${extra ? ` ${extra}` : ''}`);
  }
  for (const m of r.missing) lines.push(`  FAIL ${m}: not computed`);
  for (const u of r.unexpected) lines.push(`  FAIL ${u}: computed but not in outputs.safetensors`);
  return lines.join('\n');
}

/** What `--write` saves: float32 for every float output, u8 and i64 kept as they are, bool as u8, i32 widened to i64. */
export function castForWrite(r: CaseReport): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of r.computed) {
    if (t.dtype === 'uint8' || t.dtype === 'int64') out.set(name, t);
    else if (t.dtype === 'bool' && t.data instanceof Uint8Array) out.set(name, new Tensor('uint8', t.shape, t.data.slice()));
    else if (t.data instanceof Int32Array) out.set(name, new Tensor('int64', t.shape, BigInt64Array.from(t.data, (v) => BigInt(v))));
    else out.set(name, castTensor(t, 'float32'));
  }
  return out;
}
