/**
 * Resident memory of this process. Linux reports the peak (VmHWM) in /proc/self/status; elsewhere
 * `process.resourceUsage().maxRSS` is the same number (kilobytes, from getrusage). Peaks are per process, so a
 * configuration measured in a fresh child process gets a peak of its own.
 */
import { readFileSync } from 'node:fs';

const MiB = 2 ** 20;

export interface RssSample {
  /** Peak resident set since the process started, MiB. */
  peakMiB: number;
  /** Resident set now, MiB. */
  currentMiB: number;
}

function statusField(status: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  return m?.[1] === undefined ? undefined : (Number(m[1]) * 1024) / MiB;
}

/** Peak and current RSS in MiB. */
export function sampleRss(): RssSample {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux: fall back to getrusage (maxRSS is in kilobytes on every platform Node documents).
  }
  return {
    peakMiB: statusField(status, 'VmHWM') ?? (process.resourceUsage().maxRSS * 1024) / MiB,
    currentMiB: statusField(status, 'VmRSS') ?? process.memoryUsage.rss() / MiB,
  };
}
