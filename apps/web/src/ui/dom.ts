/** Tiny DOM helpers. */

type Child = Node | string | null | undefined | false;

/**
 * Creates an element with attributes (`class`, `aria-*`, `data-*`, …; `true` → empty attribute, `false`/nullish → absent)
 * and children.
 *
 * @param tag - tag name
 * @param attrs - attributes
 * @param children - nodes or text
 * @returns the element
 *
 * @example
 * ```ts
 * h('button', { type: 'button', class: 'primary' }, 'Evaluate');
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | null | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/**
 * The element with this id, typed; throws when the page lacks it (a broken `index.html`).
 *
 * @param id - element id
 * @returns the element
 *
 * @example
 * ```ts
 * const bar = byId<HTMLProgressElement>('eval-progress');
 * ```
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no element #${id}.`);
  return el as T;
}

/**
 * Yields to the browser for one task (lets it repaint and handle input) without the 4 ms clamp of `setTimeout`.
 *
 * @returns a promise resolved in a new task
 *
 * @example
 * ```ts
 * for (const batch of batches) { await run(batch); await yieldToBrowser(); }
 * ```
 */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Reads a `File`/`Blob` as bytes.
 *
 * @param file - the file
 * @returns its bytes
 *
 * @example
 * ```ts
 * const bytes = await readBytes(input.files[0]);
 * ```
 */
export async function readBytes(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * Makes an element a drop target for files: highlights while dragging over it and calls `onFiles`.
 *
 * @param zone - the element
 * @param onFiles - called with the dropped files
 *
 * @example
 * ```ts
 * makeDropZone(byId('model-drop'), (files) => loadModelFile(files[0]));
 * ```
 */
export function makeDropZone(zone: HTMLElement, onFiles: (files: File[]) => void): void {
  let depth = 0;
  zone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (files.length > 0) onFiles(files);
  });
}
