// Node entry: files on disk, the golden files, atomic writes.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { FileByteSource, loadSafetensorsFile, openSafetensorsFile, writeSafetensorsFile } from '../src/node.js';
import { ArrayBufferByteSource, SafetensorsError, SafetensorsFile, dtypeFromSafetensors, encodeSafetensors, planSafetensors } from '../src/safetensors/index.js';
import { Tensor } from '../src/tensor.js';
import { CountingSource, bytesOf, expectSafetensorsError } from './safetensors-helpers.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sdxs-safetensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every *.safetensors under the golden folder, links included. */
function goldenFiles(dir = GOLDEN): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? goldenFiles(join(dir, d.name)) : d.name.endsWith('.safetensors') ? [join(dir, d.name)] : [],
  );
}

/** An independent reading of a header, straight from the bytes: the oracle for names, dtypes, shapes and offsets. */
function oracle(path: string): { name: string; dtype: string; shape: number[]; byteOffset: number; byteLength: number }[] {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, { dtype, shape, data_offsets: [s, e] }]) => ({ name, dtype, shape, byteOffset: 8 + n + s, byteLength: e - s }));
}

describe('golden files', () => {
  const files = goldenFiles();

  it('finds them', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('load with the names, dtypes, shapes and offsets of the header, and re-encode byte for byte', async () => {
    let identical = 0;
    for (const link of files) {
      const path = resolveGoldenPath(link);
      const file = await openSafetensorsFile(path);
      try {
        const expected = oracle(path);
        expect(file.names().sort()).toEqual(expected.map((e) => e.name).sort());
        for (const e of expected) {
          const got = file.entry(e.name);
          expect({ ...got }).toEqual({ ...e, dtype: dtypeFromSafetensors(e.dtype) });
        }
        // Our writer lays files out exactly as the reference writer that made these did. The grad cases came from
        // an older safetensors (PyTorch 1.13 era) that sorted by name alone; those must still hold the same data.
        const tensors = await file.readAll();
        const metadata = Object.keys(file.metadata).length > 0 ? file.metadata : undefined;
        const encoded = encodeSafetensors(tensors, metadata);
        const plannedOrder = planSafetensors(tensors, metadata).tensors.map((t) => t.name);
        const fileOrder = [...expected].sort((x, y) => x.byteOffset - y.byteOffset).map((e) => e.name);
        if (plannedOrder.join('\0') === fileOrder.join('\0')) {
          expect(Buffer.from(encoded).equals(readFileSync(path))).toBe(true);
          identical++;
        } else {
          const reread = await SafetensorsFile.open(new ArrayBufferByteSource(encoded));
          for (const [name, t] of tensors) expect(bytesOf(await reread.read(name))).toEqual(bytesOf(t));
        }
      } finally {
        await file.close();
      }
    }
    expect(identical).toBeGreaterThan(files.length * 0.75);
  });

  it('reads one tensor with one request for exactly its bytes', async () => {
    const path = resolveGoldenPath(join(GOLDEN, 'vae-tiny/model.safetensors'));
    const source = new CountingSource(await FileByteSource.open(path));
    const file = await SafetensorsFile.open(source);
    const headerBytes = source.bytesRequested;
    expect(headerBytes).toBeLessThan(file.size / 100);
    const names = file.names();
    const name = names[Math.floor(names.length / 2)]!;
    const { byteOffset, byteLength } = file.entry(name);
    const t = await file.read(name);
    expect(source.requests.slice(2)).toEqual([{ offset: byteOffset, length: byteLength }]);
    expect(Buffer.from(bytesOf(t)).equals(readFileSync(path).subarray(byteOffset, byteOffset + byteLength))).toBe(true);
    await file.close();
    expect(source.closed).toBe(true);
  });

  it('follows links between golden folders to the same weights', async () => {
    const link = join(GOLDEN, 'pipeline-sdxs512-t2i/model/vae/diffusion_pytorch_model.safetensors');
    const viaLink = await openSafetensorsFile(resolveGoldenPath(link));
    const direct = await openSafetensorsFile(join(GOLDEN, 'vae-tiny/model.safetensors'));
    expect([...viaLink.entries.values()]).toEqual([...direct.entries.values()]);
    await Promise.all([viaLink.close(), direct.close()]);
    // A link stored as a text file (a checkout without symlinks) is not a safetensors file: a typed error, no crash.
    if (!lstatSync(link).isSymbolicLink()) await expectSafetensorsError(openSafetensorsFile(link), 'header-length', undefined, link);
  });
});

describe('files on disk', () => {
  const tensors = {
    'b.weight': new Tensor('float32', [2, 2], new Float32Array([1, 2, 3, 4])),
    'a.ids': new Tensor('int64', [2], new BigInt64Array([7n, -7n])),
    'c.mask': new Tensor('bool', [3], new Uint8Array([1, 0, 1])),
  };

  it('writes, then reads back through a real symlink', async () => {
    const path = join(tmp, 'model.safetensors');
    await writeSafetensorsFile(path, tensors, { format: 'pt' });
    expect(readFileSync(path)).toEqual(Buffer.from(encodeSafetensors(tensors, { format: 'pt' })));
    const link = join(tmp, 'link.safetensors');
    symlinkSync('model.safetensors', link);
    const { tensors: back, metadata } = await loadSafetensorsFile(link);
    expect(metadata).toEqual({ format: 'pt' });
    for (const [name, t] of Object.entries(tensors)) expect(bytesOf(back.get(name)!)).toEqual(bytesOf(t));
  });

  it('replaces an existing file whole and leaves no temporary files', async () => {
    const dir = join(tmp, 'replace');
    mkdirSync(dir);
    const path = join(dir, 'm.safetensors');
    writeFileSync(path, 'old');
    await writeSafetensorsFile(path, tensors);
    expect(readdirSync(dir)).toEqual(['m.safetensors']);
    const file = await openSafetensorsFile(path);
    expect(file.names()).toEqual(['a.ids', 'b.weight', 'c.mask']);
    await file.close();
  });

  it('on failure leaves the target as it was and no temporary file', async () => {
    const dir = join(tmp, 'fail');
    mkdirSync(dir);
    const path = join(dir, 'm.safetensors');
    writeFileSync(path, 'old');
    // Refused before anything is written.
    await expectSafetensorsError(writeSafetensorsFile(path, { __metadata__: tensors['a.ids'] }), 'name', '__metadata__', path);
    // Fails at the rename, after the whole temporary file was written: the target is a non-empty folder.
    const blocked = join(dir, 'blocked');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'keep'), 'x');
    const error = await expectSafetensorsError(writeSafetensorsFile(blocked, tensors), 'io', undefined, blocked);
    expect(error.cause).toBeInstanceOf(Error);
    // Fails at open: the folder does not exist.
    await expectSafetensorsError(writeSafetensorsFile(join(dir, 'missing', 'm.safetensors'), tensors), 'io', undefined, join(dir, 'missing', 'm.safetensors'));
    expect(readdirSync(dir).sort()).toEqual(['blocked', 'm.safetensors']);
    expect(readdirSync(blocked)).toEqual(['keep']);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('reports a missing file as an io error keeping the system error', async () => {
    const path = join(tmp, 'nope.safetensors');
    const error = await expectSafetensorsError(openSafetensorsFile(path), 'io', undefined, path);
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('refuses folders, out-of-range reads and reads after close', async () => {
    await expect(FileByteSource.open(tmp)).rejects.toThrow(/not a regular file/);
    const path = join(tmp, 'small.bin');
    writeFileSync(path, new Uint8Array([1, 2, 3, 4]));
    const source = await FileByteSource.open(path);
    expect(source.size).toBe(4);
    expect([...(await source.read(1, 3))]).toEqual([2, 3, 4]);
    await expect(source.read(2, 3)).rejects.toThrow(RangeError);
    await expect(source.read(-1, 1)).rejects.toThrow(RangeError);
    await source.close();
    await expect(source.read(0, 1)).rejects.toThrow(/close/);
  });

  it('closes the file when the header is invalid', async () => {
    const path = join(tmp, 'bad.safetensors');
    writeFileSync(path, new Uint8Array(16));
    const source = new CountingSource(await FileByteSource.open(path));
    await expect(SafetensorsFile.open(source)).rejects.toBeInstanceOf(SafetensorsError);
    expect(source.closed).toBe(true);
  });
});
