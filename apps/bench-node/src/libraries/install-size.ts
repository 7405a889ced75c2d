/** Bytes on disk of an installed package and everything it depends on (pnpm layout: dependencies are siblings). */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

async function duBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += e.name === 'node_modules' ? 0 : await duBytes(p);
    else if (e.isFile()) n += (await stat(p)).size;
  }
  return n;
}

/** Finds `name` in the node_modules folders at and above `from`. */
async function locate(name: string, from: string): Promise<string | undefined> {
  for (let d = from; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    try {
      return await realpath(candidate);
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

/** Installed size of `name` (as resolved from `from`) plus its dependency closure, each package counted once. */
export async function installedBytes(name: string, from: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const visit = async (pkg: string, base: string): Promise<void> => {
    const dir = await locate(pkg, base);
    if (dir === undefined || seen.has(dir)) return;
    seen.add(dir);
    total += await duBytes(dir);
    const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    // pnpm puts a package's dependencies in the node_modules folder that holds it.
    const holder = pkg.startsWith('@') ? dirname(dirname(dir)) : dirname(dir);
    // Optional dependencies count where installed (sharp's platform binaries); the others are not found and skipped.
    for (const dep of Object.keys({ ...json.dependencies, ...json.optionalDependencies })) await visit(dep, dirname(holder));
  };
  await visit(name, from);
  return total;
}

/** Bytes of our own source files for a component (a folder or one file). */
export async function sourceBytes(path: string): Promise<number> {
  const s = await stat(path);
  return s.isDirectory() ? duBytes(path) : s.size;
}
