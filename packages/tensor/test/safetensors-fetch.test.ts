// Ranged fetch: a real local HTTP server that honours Range, and fake servers that misbehave.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RangedFetchByteSource, SafetensorsFile, encodeSafetensors, type FetchLike } from '../src/safetensors/index.js';
import { Tensor } from '../src/tensor.js';
import { bytesOf, expectSafetensorsError } from './safetensors-helpers.js';

const tensors = {
  big: new Tensor('float32', [256], Float32Array.from({ length: 256 }, (_, i) => i / 3)),
  small: new Tensor('int64', [2], new BigInt64Array([5n, -5n])),
};
const file = encodeSafetensors(tensors, { source: 'http' });

let server: Server;
let url = '';
const ranges: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const range = req.headers.range ?? '';
    ranges.push(range);
    const m = /^bytes=(\d+)-(\d+)$/.exec(range);
    res.setHeader('ETag', '"v1"');
    if (!m) {
      res.writeHead(200, { 'Content-Length': file.length }).end(Buffer.from(file));
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), file.length - 1);
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${file.length}`, 'Content-Length': end - start + 1 });
    res.end(Buffer.from(file.subarray(start, end + 1)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.safetensors`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('RangedFetchByteSource over HTTP', () => {
  it('reads one tensor with one range request for exactly its bytes', async () => {
    ranges.length = 0;
    const st = await SafetensorsFile.open(await RangedFetchByteSource.open(url));
    expect(st.metadata).toEqual({ source: 'http' });
    const { byteOffset, byteLength } = st.entry('small');
    expect(bytesOf(await st.read('small'))).toEqual(bytesOf(tensors.small));
    // Size probe, length prefix, header, then the one tensor.
    expect(ranges).toHaveLength(4);
    expect(ranges[3]).toBe(`bytes=${byteOffset}-${byteOffset + byteLength - 1}`);
    const all = await st.readAll();
    expect(bytesOf(all.get('big')!)).toEqual(bytesOf(tensors.big));
  });
});

/** A fake server: `answer` gets the requested range (or undefined for HEAD) and returns the response. */
function fakeFetch(answer: (range: [number, number] | undefined, method: string) => Response): FetchLike {
  return async (_url, init) => {
    const headers = new Headers(init.headers);
    const m = /^bytes=(\d+)-(\d+)$/.exec(headers.get('range') ?? '');
    return answer(m ? [Number(m[1]), Number(m[2])] : undefined, init.method ?? 'GET');
  };
}
const partial = (start: number, end: number, headers: Record<string, string> = {}) =>
  new Response(file.slice(start, end + 1), { status: 206, headers: { 'Content-Range': `bytes ${start}-${end}/${file.length}`, ...headers } });

describe('RangedFetchByteSource against misbehaving servers', () => {
  it('refuses a server that ignores Range', async () => {
    const fetch = fakeFetch(() => new Response(file, { status: 200 }));
    await expect(RangedFetchByteSource.open('x', { fetch })).rejects.toThrow(/ignored the Range/);
  });

  it('sizes an empty file from a 416 answer (which is then no safetensors file)', async () => {
    const fetch = fakeFetch(() => new Response(null, { status: 416, headers: { 'Content-Range': 'bytes */0' } }));
    const source = await RangedFetchByteSource.open('http://x/empty', { fetch });
    expect(source.size).toBe(0);
    await expectSafetensorsError(SafetensorsFile.open(source), 'truncated', undefined, 'http://x/empty');
  });

  it('falls back to HEAD when Content-Range is hidden (CORS)', async () => {
    const fetch = fakeFetch((range, method) =>
      method === 'HEAD' ? new Response(null, { status: 200, headers: { 'Content-Length': String(file.length) } }) : new Response(file.slice(range![0], range![1] + 1), { status: 206 }),
    );
    const source = await RangedFetchByteSource.open('x', { fetch });
    expect(source.size).toBe(file.length);
    const st = await SafetensorsFile.open(source);
    expect(bytesOf(await st.read('small'))).toEqual(bytesOf(tensors.small));
  });

  it('turns short bodies, wrong ranges, errors and a changed file into io errors naming the tensor', async () => {
    const cases: ((range: [number, number]) => Response)[] = [
      ([s, e]) => partial(s, e - 1),
      ([s, e]) => new Response(file.slice(s + 1, e + 2), { status: 206, headers: { 'Content-Range': `bytes ${s + 1}-${e + 1}/${file.length}` } }),
      () => new Response('nope', { status: 500 }),
      ([s, e]) => partial(s, e, { ETag: '"v2"' }),
    ];
    for (const bad of cases) {
      let calls = 0;
      const fetch = fakeFetch((range) => (++calls <= 3 ? partial(range![0], range![1], { ETag: '"v1"' }) : bad(range!)));
      const st = await SafetensorsFile.open(await RangedFetchByteSource.open('http://x/m.safetensors', { fetch }));
      await expectSafetensorsError(st.read('small'), 'io', 'small', 'http://x/m.safetensors');
    }
  });

  it('sends the caller’s headers with every request', async () => {
    const seen: (string | null)[] = [];
    const fetch: FetchLike = async (_u, init) => {
      const headers = new Headers(init.headers);
      seen.push(headers.get('authorization'));
      const [s, e] = (/bytes=(\d+)-(\d+)/.exec(headers.get('range') ?? '') ?? []).slice(1).map(Number);
      return partial(s!, e!);
    };
    const st = await SafetensorsFile.open(await RangedFetchByteSource.open('x', { fetch, headers: { Authorization: 'Bearer t' } }));
    await st.read('big');
    expect(seen).toEqual(['Bearer t', 'Bearer t', 'Bearer t', 'Bearer t']);
  });
});
