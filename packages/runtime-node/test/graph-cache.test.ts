import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskGraphCache, defaultGraphCacheDir } from '@sdxs/runtime-node';

const HEX = 'a3'.repeat(32); // a sha256-sized key
const KEY = `one-step-${HEX}`;
const HEADER = 48;

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'sdxs-graph-cache-')), 'graphs');
});
afterEach(() => rmSync(dirname(dir), { recursive: true, force: true }));

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('defaultGraphCacheDir', () => {
  it('uses $SDXS_CACHE/graphs, else $XDG_CACHE_HOME/sdxs/graphs, else ~/.cache/sdxs/graphs', () => {
    expect(defaultGraphCacheDir({ SDXS_CACHE: '/data/sdxs', XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/data/sdxs/graphs');
    expect(defaultGraphCacheDir({ XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/xdg/sdxs/graphs');
    expect(defaultGraphCacheDir({}, '/home/u')).toBe('/home/u/.cache/sdxs/graphs');
    // The XDG spec says relative values are invalid and must be ignored; empty means unset.
    expect(defaultGraphCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.cache/sdxs/graphs');
    expect(defaultGraphCacheDir({ SDXS_CACHE: '', XDG_CACHE_HOME: '' }, '/home/u')).toBe('/home/u/.cache/sdxs/graphs');
  });
});

describe('DiskGraphCache', () => {
  it('stores and returns bytes, and misses unknown keys without creating anything', async () => {
    const cache = new DiskGraphCache({ dir });
    expect(await cache.get(KEY)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    const payload = bytes(10_000);
    await cache.put(KEY, payload);
    expect(await cache.get(KEY)).toEqual(payload);
    // Replacing works, and an empty graph is a valid entry.
    await cache.put(KEY, new Uint8Array(0));
    expect(await cache.get(KEY)).toEqual(new Uint8Array(0));
    expect(readdirSync(dir)).toEqual([`${KEY}.graph`]);
  });

  it('accepts hex hashes, optionally after a kind, and refuses anything that could be a path', async () => {
    const cache = new DiskGraphCache({ dir });
    for (const ok of [HEX, KEY, `text-encoder-${'0'.repeat(64)}`, 'f'.repeat(32)]) expect(cache.entryPath(ok)).toBe(join(dir, `${ok}.graph`));
    const bad = ['', 'abc', `../${HEX}`, `${HEX}/x`, `x/../${HEX}`, `${HEX}.graph`, `/${HEX}`, `C:${HEX}`, `..\\${HEX}`, HEX.toUpperCase(), `${HEX}\0`, `-${HEX}`, 'a'.repeat(129), `Kind-${HEX}`];
    for (const key of bad) {
      expect(() => cache.entryPath(key), key).toThrow(TypeError);
      await expect(cache.get(key), key).rejects.toThrow(/is not a cache key/);
      await expect(cache.put(key, bytes(4)), key).rejects.toThrow(/is not a cache key/);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('detects a truncated, padded, bit-flipped or foreign entry, drops it and lets it be rebuilt', async () => {
    const warnings: string[] = [];
    const cache = new DiskGraphCache({ dir, onWarning: (m) => warnings.push(m) });
    const payload = bytes(4096);
    const file = cache.entryPath(KEY);
    const damage: [string, (b: Uint8Array) => Uint8Array][] = [
      ['truncated payload', (b) => b.subarray(0, b.length - 1)],
      ['truncated header', (b) => b.subarray(0, 20)],
      ['empty file', () => new Uint8Array(0)],
      ['padded', (b) => Uint8Array.from([...b, 0])],
      ['payload bit flip', (b) => b.map((v, i) => (i === HEADER + 100 ? v ^ 1 : v))],
      ['length field', (b) => b.map((v, i) => (i === 8 ? v ^ 1 : v))],
      ['hash field', (b) => b.map((v, i) => (i === 20 ? v ^ 0x80 : v))],
      ['magic', (b) => b.map((v, i) => (i === 0 ? 0 : v))],
    ];
    for (const [what, corrupt] of damage) {
      await cache.put(KEY, payload);
      writeFileSync(file, corrupt(readFileSync(file)));
      warnings.length = 0;
      expect(await cache.get(KEY), what).toBeUndefined();
      expect(warnings, what).toHaveLength(1);
      expect(warnings[0]).toMatch(/dropping damaged entry/);
      expect(existsSync(file), what).toBe(false);
      await cache.put(KEY, payload);
      expect(await cache.get(KEY), what).toEqual(payload);
    }
  });

  it('writes through a private temporary file: no partial entry is ever visible, nothing is left behind', async () => {
    const cache = new DiskGraphCache({ dir });
    await cache.put(KEY, bytes(1000));
    // A writer killed mid-write leaves only its temporary file: readers still see the old entry.
    const leftover = join(dir, `.${KEY}.99999.abcdef.tmp`);
    writeFileSync(leftover, bytes(10));
    expect(await cache.get(KEY)).toEqual(bytes(1000));
    // Temporary files older than an hour are swept by the next writer; fresh ones (a live writer's) are not.
    const fresh = join(dir, `.${KEY}.99998.abcdef.tmp`);
    writeFileSync(fresh, bytes(10));
    const old = (Date.now() - 2 * 3600_000) / 1000;
    utimesSync(leftover, old, old);
    await new DiskGraphCache({ dir }).put(`kind-${HEX}`, bytes(5));
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });

  it('fails cleanly when the entry cannot be written, leaving no temporary file', async () => {
    const cache = new DiskGraphCache({ dir });
    // A folder where the entry should go makes the final rename fail after the data was written.
    mkdirSync(cache.entryPath(KEY), { recursive: true });
    await expect(cache.put(KEY, bytes(100))).rejects.toThrow(/DiskGraphCache: cannot write .*\.graph/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // And a cache folder that cannot exist (its parent is a file) is an error too, not a crash.
    const file = join(dirname(dir), 'not-a-folder');
    writeFileSync(file, 'x');
    await expect(new DiskGraphCache({ dir: join(file, 'graphs') }).put(KEY, bytes(1))).rejects.toThrow(/ENOTDIR|not a directory/);
  });

  it('keeps every read whole while writers in this process race on one key', async () => {
    const cache = new DiskGraphCache({ dir });
    const payloads = Array.from({ length: 12 }, (_, i) => new Uint8Array(50_000).fill(i + 1));
    const reads: (Uint8Array | undefined)[] = [];
    await Promise.all([...payloads.map((p) => cache.put(KEY, p)), ...payloads.map(async () => reads.push(await cache.get(KEY)))]);
    for (const r of [...reads, await cache.get(KEY)]) {
      if (r === undefined) continue; // read before the first rename
      expect(r.length).toBe(50_000);
      expect(r.every((v) => v === r[0])).toBe(true);
    }
    expect(await cache.get(KEY)).toBeDefined();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps every read whole while several processes write the same key', async () => {
    const cache = new DiskGraphCache({ dir });
    await cache.put(KEY, new Uint8Array(1 << 20).fill(9));
    const here = dirname(fileURLToPath(import.meta.url));
    const root = join(here, '..', '..', '..');
    const writers = [1, 2, 3].map(
      (b) =>
        new Promise<string>((resolve, reject) => {
          const p = spawn(process.execPath, ['--import', 'tsx', join(here, 'graph-cache-child.ts'), dir, KEY, String(b), String(1 << 20), '15'], {
            cwd: root,
            env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
          p.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
          p.on('error', reject);
          p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${b} exited ${code}: ${out}`))));
        }),
    );
    let done = false;
    const all = Promise.all(writers).finally(() => (done = true));
    const seen = new Set<number>();
    while (!done) {
      const r = await cache.get(KEY);
      expect(r, 'an entry existed before the race, so every read must find one').toBeDefined();
      expect(r!.length).toBe(1 << 20);
      expect(r!.every((v) => v === r![0])).toBe(true);
      seen.add(r![0]!);
    }
    expect(await all).toEqual(['done\n', 'done\n', 'done\n']);
    const last = await cache.get(KEY);
    expect([1, 2, 3]).toContain(last![0]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  }, 120_000);
});
