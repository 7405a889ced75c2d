// Run by hub-process.test.ts in a separate Node process (through tsx): downloads one file of a repo and
// reports progress on stdout, so the parent can kill it mid-transfer or run two at once.
import { downloadSnapshot } from '../src/hub/index.js';

const [endpoint, cacheDir, repo, file] = process.argv.slice(2);
if (!endpoint || !cacheDir || !repo || !file) throw new Error('usage: hub-child.ts ENDPOINT CACHE_DIR REPO FILE');
const snap = await downloadSnapshot(repo, {
  endpoint,
  cacheDir,
  env: { HF_HOME: `${cacheDir}/no-hf-home` },
  files: (p) => p === file,
  onProgress: (p) => process.stdout.write(`progress ${p.fileBytes}\n`),
});
process.stdout.write(`done ${JSON.stringify(snap.downloaded)}\n`);
