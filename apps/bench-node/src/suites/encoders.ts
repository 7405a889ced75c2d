/**
 * `pnpm bench encoders`: the image encoders of @sdxs/image against fast-png, pngjs, jpeg-js and sharp (see
 * ../libraries/images.ts), with install sizes; the "Image encoders" rows of docs/libraries.md. Options: `--runs N`
 * (default 9), `--size S` (default 512).
 */
import { fileURLToPath } from 'node:url';
import { compareImageEncoders, type ImageComparison } from '../libraries/images.js';
import { installedBytes } from '../libraries/install-size.js';
import { positiveInt } from '../suite-options.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const MB = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(0)} kB` : `${(n / 1e6).toFixed(1)} MB`);

export async function runEncoders(log: (s: string) => void, args: readonly string[] = []): Promise<ImageComparison & { sizes: Record<string, number> }> {
  const runs = positiveInt(args, '--runs', 9);
  const size = positiveInt(args, '--size', 512);
  const bench = here('../..');
  const image = here('../../../../packages/image');
  const sizes: Record<string, number> = {
    'fflate (our PNG in browsers)': await installedBytes('fflate', image),
    '@jsquash/jpeg + @jsquash/webp': (await installedBytes('@jsquash/jpeg', image)) + (await installedBytes('@jsquash/webp', image)),
    'fast-png': await installedBytes('fast-png', bench),
    pngjs: await installedBytes('pngjs', bench),
    'jpeg-js': await installedBytes('jpeg-js', bench),
    sharp: await installedBytes('sharp', bench),
  };
  log(`image encoders, ${size}×${size} RGBA, median of ${runs} interleaved runs:`);
  const result = await compareImageEncoders(log, runs, size);
  log('');
  log('| format | encoder | ms | KiB | decoded | parameters text |');
  log('| --- | --- | --- | --- | --- | --- |');
  for (const r of result.rows) log(`| ${r.format} | ${r.encoder} | ${r.ms.toFixed(1)} | ${r.kib.toFixed(0)} | ${r.quality} | ${r.metadata} |`);
  const d = result.deflate;
  log('');
  log(`deflate alone (level 6, ${MB(size * size * 4)}): node:zlib ${d.zlib_ms.toFixed(1)} ms → ${d.zlib_bytes} B; fflate ${d.fflate_ms.toFixed(1)} ms → ${d.fflate_bytes} B (${(d.fflate_ms / d.zlib_ms).toFixed(2)}×)`);
  log('installed: ' + Object.entries(sizes).map(([k, v]) => `${k} ${MB(v)}`).join(', '));
  return { ...result, sizes };
}
