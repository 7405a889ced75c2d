import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAD_RULES } from '@sdxs/graph';

// The rule map is typed `satisfies Record<GradOpType, GradRule>`, so a key missing from it fails to compile;
// this test keeps GradOpType itself in step with the op files, by reading which op each file emits.
const opsDir = new URL('../../src/ops/', import.meta.url);

function emittedOps(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(opsDir).filter((f) => f.endsWith('.ts') && !f.startsWith('_') && f !== 'index.ts')) {
    const src = readFileSync(new URL(file, opsDir), 'utf8');
    const prefix = src.includes("domain: 'com.microsoft'") ? 'com.microsoft.' : '';
    const names = [...src.matchAll(/(?:opType: |(?:binary|unary|reduce|variadic)\()'([A-Za-z]+)'|const op = '(?:com\.microsoft\.)?([A-Za-z]+)'/g)].map((m) => m[1] ?? m[2]!);
    expect(names.length, `${file} emits no op this test can see`).toBeGreaterThan(0);
    for (const n of names) found.set(prefix + n, file);
  }
  return found;
}

describe('grad: the rule map', () => {
  it('has an entry for every op a file in src/ops emits', () => {
    const missing = [...emittedOps()].filter(([key]) => !Object.hasOwn(GRAD_RULES, key)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });
});
