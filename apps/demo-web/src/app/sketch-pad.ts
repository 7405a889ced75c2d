/**
 * A drawing surface for the sketch ControlNet: black strokes on white (the SDXS sketch model sees them
 * inverted), pen and eraser, undo and clear. Changes are reported at most once per animation frame, so a
 * fast stroke does not flood the generator (which keeps only the newest frame anyway).
 */

export type Tool = 'pen' | 'eraser';

interface Snapshot {
  readonly pixels: ImageData;
  readonly strokes: number;
}

const MAX_UNDO = 50;

export class SketchPad {
  tool: Tool = 'pen';
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #onChange: () => void;
  readonly #undo: Snapshot[] = [];
  #strokes = 0;
  #drawing: { id: number; x: number; y: number } | undefined;
  #frame: number | undefined;

  constructor(canvas: HTMLCanvasElement, onChange: () => void) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser has no 2D canvas');
    this.#canvas = canvas;
    this.#ctx = ctx;
    this.#onChange = onChange;
    this.#fillWhite();
    canvas.addEventListener('pointerdown', (e) => this.#down(e));
    canvas.addEventListener('pointermove', (e) => this.#move(e));
    canvas.addEventListener('pointerup', (e) => this.#up(e));
    canvas.addEventListener('pointercancel', (e) => this.#up(e));
  }

  /** Nothing drawn since the last clear. */
  get isBlank(): boolean {
    return this.#strokes === 0;
  }

  get canUndo(): boolean {
    return this.#undo.length > 0;
  }

  /** Stroke width in canvas pixels: about 1/80 of the side for the pen, four times that for the eraser. */
  get lineWidth(): number {
    const base = Math.max(1, Math.round(this.#canvas.width / 80));
    return this.tool === 'pen' ? base : base * 4;
  }

  /** The pad's RGBA pixels. */
  pixels(): ImageData {
    return this.#ctx.getImageData(0, 0, this.#canvas.width, this.#canvas.height);
  }

  /** Resize (clears the drawing and its history). */
  resize(width: number, height: number): void {
    this.#canvas.width = width;
    this.#canvas.height = height;
    this.#undo.length = 0;
    this.#strokes = 0;
    this.#fillWhite();
  }

  undo(): void {
    const s = this.#undo.pop();
    if (!s) return;
    this.#ctx.putImageData(s.pixels, 0, 0);
    this.#strokes = s.strokes;
    this.#changed();
  }

  clear(): void {
    if (this.isBlank) return;
    this.#snapshot();
    this.#fillWhite();
    this.#strokes = 0;
    this.#changed();
  }

  /** Draw a polyline in canvas pixel coordinates (for tests and scripted demos). */
  stroke(points: readonly (readonly [number, number])[]): void {
    const first = points[0];
    if (!first) return;
    this.#snapshot();
    this.#strokes++;
    this.#dot(first[0], first[1]);
    for (let i = 1; i < points.length; i++) this.#segment(points[i - 1]!, points[i]!);
    this.#changed();
  }

  #fillWhite(): void {
    this.#ctx.save();
    this.#ctx.globalCompositeOperation = 'source-over';
    this.#ctx.fillStyle = '#ffffff';
    this.#ctx.fillRect(0, 0, this.#canvas.width, this.#canvas.height);
    this.#ctx.restore();
  }

  #snapshot(): void {
    this.#undo.push({ pixels: this.pixels(), strokes: this.#strokes });
    if (this.#undo.length > MAX_UNDO) this.#undo.shift();
  }

  #point(e: PointerEvent): [number, number] {
    const r = this.#canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * this.#canvas.width) / r.width, ((e.clientY - r.top) * this.#canvas.height) / r.height];
  }

  #style(): void {
    const c = this.#ctx;
    c.strokeStyle = c.fillStyle = this.tool === 'pen' ? '#000000' : '#ffffff';
    c.lineWidth = this.lineWidth;
    c.lineCap = 'round';
    c.lineJoin = 'round';
  }

  #dot(x: number, y: number): void {
    this.#style();
    this.#ctx.beginPath();
    this.#ctx.arc(x, y, this.lineWidth / 2, 0, Math.PI * 2);
    this.#ctx.fill();
  }

  #segment(a: readonly [number, number], b: readonly [number, number]): void {
    this.#style();
    this.#ctx.beginPath();
    this.#ctx.moveTo(a[0], a[1]);
    this.#ctx.lineTo(b[0], b[1]);
    this.#ctx.stroke();
  }

  #down(e: PointerEvent): void {
    if (this.#drawing || (e.pointerType === 'mouse' && e.button !== 0)) return;
    this.#canvas.setPointerCapture(e.pointerId);
    this.#snapshot();
    this.#strokes++;
    const [x, y] = this.#point(e);
    this.#drawing = { id: e.pointerId, x, y };
    this.#dot(x, y);
    this.#changed();
  }

  #move(e: PointerEvent): void {
    const d = this.#drawing;
    if (!d || d.id !== e.pointerId) return;
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const p = this.#point(ev);
      this.#segment([d.x, d.y], p);
      [d.x, d.y] = p;
    }
    this.#changed();
  }

  #up(e: PointerEvent): void {
    if (this.#drawing?.id !== e.pointerId) return;
    this.#drawing = undefined;
    this.#changed();
  }

  #changed(): void {
    if (this.#frame !== undefined) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = undefined;
      this.#onChange();
    });
  }
}
