import { allocData, type DataTypeMap, type DType } from './dtype.js';
import { formatShape, shapeSize, type Shape } from './shape.js';

/**
 * A dense row-major CPU tensor. The data array is owned by the tensor; `data.length` always equals
 * the product of `shape`.
 *
 * @example
 * const t = new Tensor('float32', [2, 2], new Float32Array([1, 2, 3, 4]));
 */
export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: Shape;
  readonly data: DataTypeMap[D];

  constructor(dtype: D, shape: Shape, data: DataTypeMap[D]) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new RangeError(`tensor data has ${data.length} elements but shape ${formatShape(shape)} needs ${size}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /** A zero-filled tensor. */
  static zeros<D extends DType>(dtype: D, shape: Shape): Tensor<D> {
    return new Tensor(dtype, shape, allocData(dtype, shapeSize(shape)));
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The same data seen with another shape of equal size (no copy). */
  reshape(shape: Shape): Tensor<D> {
    return new Tensor(this.dtype, shape, this.data);
  }

  /** The elements as plain numbers (int64 converted with Number, so beyond 2^53 it is approximate). */
  toArray(): number[] {
    const d = this.data;
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d);
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)})`;
  }
}
