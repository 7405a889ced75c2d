import { cpus, totalmem, type as osType, release } from 'node:os';

/** A one-line description of the machine, recorded next to every number. */
export function describeMachine(): { cpu: string; cores: number; memoryGiB: number; os: string; node: string } {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown CPU',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
  };
}
