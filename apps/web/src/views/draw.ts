/**
 * Draw: a pad for mouse, pen and touch (pointer events), with brush size, undo and clear; the model's 28×28 input and
 * its prediction update live while drawing.
 */

import { prepareImage, toModelInput } from '@fmnist/classify';
import type { App } from '../app';
import { byId } from '../ui/dom';
import { drawPixels } from '../ui/pixels';
import { renderProbabilities } from '../ui/probability-bars';

/** Internal resolution of the drawing pad (10 pad pixels per model pixel). */
export const PAD_SIZE_PX = 280;

interface Stroke {
  size: number;
  points: { x: number; y: number; pressure: number }[];
  /** A test image stamped on the pad (the keyboard-friendly way to start), instead of points. */
  image?: HTMLCanvasElement;
}

/**
 * Wires the Draw view.
 *
 * @param app - the app state
 *
 * @example
 * ```ts
 * setupDrawView(app);
 * ```
 */
export function setupDrawView(app: App): void {
  const pad = byId<HTMLCanvasElement>('draw-pad');
  const brush = byId<HTMLInputElement>('draw-brush');
  const brushValue = byId<HTMLOutputElement>('draw-brush-value');
  const crop = byId<HTMLInputElement>('draw-crop');
  const undo = byId<HTMLButtonElement>('draw-undo');
  const clear = byId<HTMLButtonElement>('draw-clear');
  const sample = byId<HTMLButtonElement>('draw-sample');
  const input = byId<HTMLCanvasElement>('draw-input');
  const probs = byId<HTMLOListElement>('draw-probs');
  const result = byId('draw-result');
  pad.width = PAD_SIZE_PX;
  pad.height = PAD_SIZE_PX;
  const ctx = pad.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  const strokes: Stroke[] = [];
  let current: Stroke | null = null;

  const paintStroke = (s: Stroke) => {
    if (s.image) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(s.image, 0, 0, PAD_SIZE_PX, PAD_SIZE_PX);
      return;
    }
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const pts = s.points;
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i] as Stroke['points'][number];
      const width = s.size * (0.5 + p.pressure);
      if (i === 0) {
        ctx.beginPath();
        ctx.arc(p.x, p.y, width / 2, 0, Math.PI * 2);
        ctx.fill();
      } else {
        const q = pts[i - 1] as Stroke['points'][number];
        ctx.lineWidth = width;
        ctx.beginPath();
        ctx.moveTo(q.x, q.y);
        ctx.lineTo(p.x, p.y);
        ctx.stroke();
      }
    }
  };
  const repaint = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD_SIZE_PX, PAD_SIZE_PX);
    for (const s of strokes) paintStroke(s);
    undo.disabled = strokes.length === 0;
    clear.disabled = strokes.length === 0;
  };

  // Live prediction: at most one inference in flight; the latest drawing wins.
  let running = false;
  let pending = false;
  const predict = async () => {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    try {
      do {
        pending = false;
        const image = ctx.getImageData(0, 0, PAD_SIZE_PX, PAD_SIZE_PX);
        const prepared = prepareImage(image, { invert: false, crop: crop.checked }); // white strokes on a black pad
        drawPixels(input, prepared.pixels);
        const engine = app.engine;
        if (!engine) continue;
        if (strokes.length === 0 || prepared.empty) {
          probs.replaceChildren();
          result.textContent = 'Draw a garment on the pad: the prediction updates as you draw.';
          continue;
        }
        const p = await engine.run(toModelInput(prepared.pixels), 1);
        const names = engine.model.metadata.classNames;
        const best = renderProbabilities(probs, p, names);
        result.textContent = `${names[best]} — ${((p[best] as number) * 100).toFixed(1)} %`;
        result.dataset.predicted = String(best);
      } while (pending);
    } catch (err) {
      result.textContent = `Prediction failed: ${(err as Error).message}`;
    } finally {
      running = false;
    }
  };

  const toPad = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) / r.width) * PAD_SIZE_PX,
      y: ((e.clientY - r.top) / r.height) * PAD_SIZE_PX,
      // Mouse and touch report 0.5 (or 0 when not pressed); pens report real pressure.
      pressure: e.pointerType === 'pen' ? e.pressure : 0.5,
    };
  };
  pad.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    current = { size: Number(brush.value), points: [toPad(e)] };
    strokes.push(current);
    paintStroke(current);
    undo.disabled = false;
    clear.disabled = false;
    void predict();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!current) return;
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [e];
    for (const ev of events.length > 0 ? events : [e]) current.points.push(toPad(ev));
    // Repaint just the new segment(s).
    const tail: Stroke = { size: current.size, points: current.points.slice(-events.length - 1) };
    paintStroke(tail);
    void predict();
  });
  const end = () => {
    if (!current) return;
    current = null;
    void predict();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);

  const doUndo = () => {
    strokes.pop();
    repaint();
    void predict();
  };
  undo.addEventListener('click', doUndo);
  clear.addEventListener('click', () => {
    strokes.length = 0;
    repaint();
    void predict();
  });
  sample.addEventListener('click', async () => {
    sample.disabled = true;
    try {
      const test = await app.ensureTestSet();
      const index = Math.floor(Math.random() * test.count);
      const image = document.createElement('canvas');
      drawPixels(image, test.images.subarray(index * 784, (index + 1) * 784));
      strokes.push({ size: 0, points: [], image });
      repaint();
      void predict();
    } catch (err) {
      result.textContent = `Could not load the test set: ${(err as Error).message}`;
    } finally {
      sample.disabled = false;
    }
  });
  brush.addEventListener('input', () => {
    brushValue.value = `${brush.value} px`;
  });
  crop.addEventListener('change', () => void predict());
  document.addEventListener('keydown', (e) => {
    const panel = byId('panel-draw');
    if (panel.hidden) return;
    if (
      (e.ctrlKey || e.metaKey) &&
      !e.shiftKey &&
      e.key.toLowerCase() === 'z' &&
      !(e.target instanceof HTMLInputElement && e.target.type === 'text')
    ) {
      e.preventDefault();
      if (strokes.length > 0) doUndo();
    }
  });
  app.addEventListener('engine', () => void predict());
  brushValue.value = `${brush.value} px`;
  repaint();
  void predict();
}
