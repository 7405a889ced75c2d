/**
 * A `fetch` for @huggingface/hub that lets it talk to the tests' fake hub (packages/runtime-node/test/hub-fake.ts),
 * which speaks only what huggingface_hub (Python) and our client use: the revision API with `blobs=true` and
 * HEAD/GET on resolve URLs. The library also asks for the tree API, paths-info and a `Range: bytes=0-0` probe;
 * those are answered here from the revision API and a HEAD, the way huggingface.co answers them. Everything else
 * (file bytes, redirects to the CDN, errors) goes to the fake hub unchanged, so the library's own download logic
 * is what runs.
 */
interface Sibling {
  rfilename: string;
  size: number;
  blobId: string;
  lfs?: { sha256: string; size: number };
}

async function siblings(realFetch: typeof fetch, origin: string, repo: string, rev: string, headers: Headers): Promise<{ sha: string; siblings: Sibling[] } | Response> {
  const r = await realFetch(`${origin}/api/models/${repo}/revision/${rev}?blobs=true`, { headers });
  if (!r.ok) return r;
  return (await r.json()) as { sha: string; siblings: Sibling[] };
}

function entry(s: Sibling, commit: string): Record<string, unknown> {
  return { type: 'file', path: s.rfilename, oid: s.blobId, size: s.size, ...(s.lfs ? { lfs: { oid: s.lfs.sha256, size: s.lfs.size, pointerSize: 130 } } : {}), lastCommit: { id: commit, title: '', date: '' } };
}

/** Counts what the adapter answered itself, so request counts can include them. */
export interface AdapterCounts {
  translated: number;
}

export function fakeHubFetch(counts: AdapterCounts = { translated: 0 }, realFetch: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/(tree|paths-info)\/([^/?]+)/.exec(url.pathname);
    if (tree) {
      counts.translated++;
      const info = await siblings(realFetch, url.origin, tree[1] ?? '', tree[3] ?? '', headers);
      if (info instanceof Response) return info;
      let files = info.siblings;
      if (tree[2] === 'paths-info') {
        const body = JSON.parse(String(init?.body ?? '{}')) as { paths?: string[] };
        const wanted = new Set(body.paths ?? []);
        files = files.filter((s) => wanted.has(s.rfilename));
      }
      return Response.json(files.map((s) => entry(s, info.sha)));
    }
    if (/\/resolve\//.test(url.pathname) && headers.get('range') === 'bytes=0-0') {
      counts.translated++;
      // What huggingface.co answers to the probe: 206 with the total size, the ETags, the commit.
      const head = await realFetch(url, { method: 'HEAD', headers: { ...(headers.get('authorization') ? { authorization: headers.get('authorization')! } : {}) }, redirect: 'manual' });
      if (!head.ok && (head.status < 300 || head.status >= 400)) return head;
      const size = head.headers.get('x-linked-size') ?? head.headers.get('content-length') ?? '0';
      const out = new Headers({ 'content-range': `bytes 0-0/${size}` });
      for (const h of ['etag', 'x-linked-etag', 'x-linked-size', 'x-repo-commit']) {
        const v = head.headers.get(h);
        if (v !== null) out.set(h, v);
      }
      return new Response(new Uint8Array(1), { status: 206, headers: out });
    }
    return realFetch(input, init);
  };
}
