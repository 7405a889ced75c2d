/** BullMQ's connection options for a `redis://` or `rediss://` URL, with the settings its workers require. */
import type { ConnectionOptions } from 'bullmq';

/** The queue every server and worker of one deployment share, unless named otherwise. */
export const DEFAULT_QUEUE_NAME = 'sdxs-images';

/**
 * The pub/sub channel on which servers name the jobs whose clients are gone: every worker listens, and the one
 * running the job aborts it (BullMQ's Worker.cancelJob).
 */
export function cancelChannel(queue: string): string {
  return `sdxs:${queue}:cancel`;
}

/**
 * @example
 * redisConnection('redis://127.0.0.1:6379/0');
 */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`--queue: ${JSON.stringify(url)} is not a URL; expected redis://host:port[/db]`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new RangeError(`--queue: ${JSON.stringify(url)} is not a redis:// or rediss:// URL`);
  // maxRetriesPerRequest null: a worker's blocking calls must wait through reconnects rather than fail (BullMQ's rule).
  return { url, maxRetriesPerRequest: null, lazyConnect: false };
}
