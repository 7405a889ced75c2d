// `sdxs serve` as users start it: bound to 127.0.0.1 unless told otherwise (RELIABILITY item 22), serving the
// embedded model offline, and stopping cleanly on SIGTERM.
import { describe, expect, it } from 'vitest';
import { startServe } from '../../../tools/serve-processes.js';

describe('sdxs serve (the process)', () => {
  it('binds 127.0.0.1 by default, answers, and exits 0 on SIGTERM', async () => {
    const serve = startServe(['--model', 'sdxs-micro-1step', '-q']);
    try {
      const base = await serve.ready;
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await fetch(`${base}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a red circle on a blue background', seed: 1 }) });
      expect(r.status).toBe(200);
      expect((await r.json()).data[0].b64_json).toMatch(/^iVBOR/);
    } finally {
      expect(await serve.stop('SIGTERM')).toBe(0);
    }
    expect(serve.output()).toMatch(/sdxs serve: listening on http:\/\/127\.0\.0\.1:\d+ \(sdxs-micro-1step, batches up to 8\)/);
  }, 60_000);
});
