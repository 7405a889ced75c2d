// Run by graph-cache.test.ts in a separate Node process (through tsx): puts `count` entries under one key, each
// a payload filled with this writer's byte, so the parent can race several writers against its readers.
import { DiskGraphCache } from '../src/graph-cache/index.js';

const [dir, key, byte, size, count] = process.argv.slice(2);
if (!dir || !key || !byte || !size || !count) throw new Error('usage: graph-cache-child.ts DIR KEY BYTE SIZE COUNT');
const cache = new DiskGraphCache({ dir });
for (let i = 0; i < Number(count); i++) await cache.put(key, new Uint8Array(Number(size)).fill(Number(byte)));
process.stdout.write('done\n');
