import { describe, expect, it } from 'vitest';
import { createProgressBar, formatBytes, renderProgressLine, type DownloadProgress, type ProgressStream } from '../src/hub/index.js';

function stream(isTTY: boolean, columns = 100): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return {
    isTTY,
    columns,
    out,
    write(s: string) {
      out.push(s);
      return true;
    },
  };
}

function state(bytes: number, total = 1000, file = 'unet/diffusion_pytorch_model.safetensors'): DownloadProgress {
  return { file, fileBytes: bytes, fileTotal: total, bytes, total, filesDone: bytes >= total ? 1 : 0, filesTotal: 1 };
}

describe('progress bar', () => {
  it('formats sizes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(2_600_000_000)).toBe('2.6 GB');
  });

  it('draws a bar with percent, sizes, files and the current file, fitted to the terminal', () => {
    const line = renderProgressLine({ ...state(450_000_000, 1_000_000_000), filesDone: 3, filesTotal: 12 }, 100);
    expect(line).toMatch(/^\[#+\.+\]  45% 450\.0 MB\/1\.0 GB 3\/12 files unet\/diffusion_pytorch_model\.safetensors$/);
    expect(line.length).toBeLessThan(100);
    const narrow = renderProgressLine(state(500), 60);
    expect(narrow.length).toBe(59);
    expect(narrow).toMatch(/^\[#####\.{5}\]  50% 500 B\/1\.0 kB 0\/1 files …[\w.]+\.safetensors$/);
    expect(renderProgressLine(state(500), 20).length).toBeLessThanOrEqual(19);
    expect(renderProgressLine(state(0, 0), 80)).toContain('100%'); // nothing to fetch is done
  });

  it('prints nothing when the stream is not a terminal', () => {
    const s = stream(false);
    const bar = createProgressBar({ stream: s });
    for (let i = 0; i <= 1000; i += 100) bar.update(state(i));
    bar.done();
    expect(s.out).toEqual([]);
  });

  it('redraws in place at most once per interval, and draws the final state on done', () => {
    const s = stream(true);
    let t = 0;
    const bar = createProgressBar({ stream: s, intervalMs: 100, now: () => t });
    bar.update(state(100)); // drawn (first)
    t = 50;
    bar.update(state(200)); // throttled
    bar.update(state(300)); // throttled
    t = 150;
    bar.update(state(400)); // drawn
    t = 160;
    bar.update(state(1000)); // throttled, but done() draws it
    bar.done();
    expect(s.out.length).toBe(4);
    expect(s.out.slice(0, 3).every((l) => l.startsWith('\r') && l.endsWith('\x1b[K'))).toBe(true);
    expect(s.out[0]).toContain(' 10% ');
    expect(s.out[1]).toContain(' 40% ');
    expect(s.out[2]).toContain('100% ');
    expect(s.out[3]).toBe('\n');
  });

  it('done without any update prints nothing', () => {
    const s = stream(true);
    createProgressBar({ stream: s }).done();
    expect(s.out).toEqual([]);
  });
});
