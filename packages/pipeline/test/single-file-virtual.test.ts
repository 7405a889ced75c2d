// The planned safetensors file behind single-file checkpoints: its bytes, range reads across pieces, the shared file.
import { describe, expect, it } from 'vitest';
import { SharedByteSource, transposeBytes, virtualSafetensors, type VirtualTensor } from '@sdxs/pipeline';
import { ArrayBufferByteSource, encodeSafetensors, SafetensorsFile, Tensor, type ByteSource } from '@sdxs/tensor';

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe('virtualSafetensors', () => {
  // One source file holding [q; k; v] rows and a 2×3 matrix to transpose.
  const source = new ArrayBufferByteSource(new Uint8Array([...f32(1, 2, 3, 4, 5, 6), ...f32(7, 8, 9, 10, 11, 12)]), { name: 'src' });
  const tensors: VirtualTensor[] = [
    { name: 'k', dtype: 'float32', shape: [1, 2], pieces: [{ source, offset: 8, length: 8 }] },
    { name: 'qv', dtype: 'float32', shape: [2, 2], pieces: [{ source, offset: 0, length: 8 }, { source, offset: 16, length: 8 }] },
    { name: 'pt', dtype: 'float32', shape: [3, 2], pieces: [{ compute: async () => transposeBytes(await source.read(24, 24), 2, 3, 4), length: 24 }] },
  ];

  it('is byte for byte the file encodeSafetensors writes for the same tensors', async () => {
    const file = virtualSafetensors('v', tensors, { format: 'pt' });
    const expected = encodeSafetensors(
      { k: new Tensor('float32', [1, 2], new Float32Array([3, 4])), qv: new Tensor('float32', [2, 2], new Float32Array([1, 2, 5, 6])), pt: new Tensor('float32', [3, 2], new Float32Array([7, 10, 8, 11, 9, 12])) },
      { format: 'pt' },
    );
    expect(file.size).toBe(expected.length);
    expect(Buffer.from(await file.read(0, file.size)).equals(Buffer.from(expected))).toBe(true);
    // Reads that start and end inside pieces.
    for (const [o, l] of [[3, 40], [expected.length - 30, 27], [expected.length - 1, 1]] as const) {
      expect(Buffer.from(await file.read(o, l)).equals(Buffer.from(expected.subarray(o, o + l)))).toBe(true);
    }
    await expect(file.read(expected.length - 1, 2)).rejects.toThrow(RangeError);
    const st = await SafetensorsFile.open(file);
    expect([...(await st.read('pt')).data]).toEqual([7, 10, 8, 11, 9, 12]);
  });

  it('refuses pieces that do not fill the shape', () => {
    expect(() => virtualSafetensors('v', [{ name: 'x', dtype: 'float32', shape: [3], pieces: [{ source, offset: 0, length: 8 }] }])).toThrow(/x: 8 bytes planned, float32 \[3\] needs 12/);
  });
});

describe('SharedByteSource', () => {
  it('opens the file on first read and closes it when the last reader releases it', async () => {
    let opened = 0;
    let closed = 0;
    const open = async (): Promise<ByteSource> => {
      opened++;
      const inner = new ArrayBufferByteSource(f32(1, 2));
      return { name: 'f', size: 8, read: (o, l) => inner.read(o, l), close: async () => void closed++ };
    };
    const shared = new SharedByteSource('f', 8, open);
    shared.acquire();
    shared.acquire();
    await shared.read(0, 4);
    await shared.read(4, 4);
    await shared.release();
    expect([opened, closed]).toEqual([1, 0]);
    await shared.release();
    expect([opened, closed]).toEqual([1, 1]);
    shared.acquire();
    await shared.read(0, 8);
    await shared.release();
    expect([opened, closed]).toEqual([2, 2]);
  });
});
