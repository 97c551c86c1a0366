/**
 * A hostile HTTP server on 127.0.0.1 for the download fault suites (test-only: no entry imports it, so it never
 * reaches `dist/`). Each URL is `/<mode>/<file name>`: the mode picks the misbehaviour, the name one of the files the
 * server was given. `/ok/` serves them properly, so `[`${base}/reset/`, `${base}/ok/`]` is a bad mirror then a good one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';

/** The misbehaviours, by the first path segment. */
export const HOSTILE_MODES = [
  'ok',
  'reset', // Content-Length of the whole file, half the body, then the socket is destroyed
  'reset-early', // the socket is destroyed before any response
  'short', // Content-Length 1000 bytes larger than the body, then the connection closes
  'endless', // 200 without Content-Length, zeros forever (a gzip header first, so it looks like the file)
  'huge-length', // Content-Length of 10 GB
  'gzip-encoding', // Content-Encoding: gzip on top of the .gz (a common misconfiguration): the body decodes to the .gz
  'gzip-encoding-raw', // Content-Encoding: gzip whose decoded body is the raw IDX file (a server compressing on the fly)
  'bad-encoding', // Content-Encoding: gzip but the body is not gzip
  'trickle', // Content-Length of the whole file, one byte every `trickleMs`
  'stall', // headers and 10 bytes, then silence
  'no-headers', // accepts the connection and never answers
  'redirect-loop', // 302 to itself
  'redirect-ok', // 302 to /ok/<name>
  'html', // 200 text/html error page
  'wrong', // 200 with a valid gzip IDX file of other content (checksum mismatch)
  'bad-dims', // 200 with a small gzip IDX whose header declares 1,369,568 images
  'not-found', // 404
  'gone', // 410
  'forbidden', // 403
  'error', // 500 every time
  'error-then-ok', // 500 on the first request of each file, then the file
  'unavailable-then-ok', // 503 twice per file, then the file
] as const;

/** One of {@link HOSTILE_MODES}. */
export type HostileMode = (typeof HOSTILE_MODES)[number];

/** Options of {@link startHostileServer}. */
export interface HostileServerOptions {
  /** Files by name (e.g. `train-images-idx3-ubyte.gz`), served as they are by `/ok/`. */
  files: Record<string, Uint8Array>;
  /** Milliseconds between the bytes of `trickle`. @defaultValue 500 */
  trickleMs?: number;
}

/** A running hostile server. */
export interface HostileServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** `${base}/${mode}/`: a mirror behaving as `mode`. */
  mirror(mode: HostileMode): string;
  /** Requests seen for `/<mode>/<name>`. */
  count(mode: HostileMode, name: string): number;
  /** Forgets the request counts. */
  reset(): void;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

const HTML = Buffer.from('<!DOCTYPE html><html><head><title>Error</title></head><body>Sorry, this page is not available.</body></html>');

/** Starts the server on 127.0.0.1 at a free port. */
export async function startHostileServer(options: HostileServerOptions): Promise<HostileServer> {
  const trickleMs = options.trickleMs ?? 500;
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const [, mode, name = ''] = path.split('/') as [string, HostileMode, string];
    const key = `${mode}/${name}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const body = options.files[name];
    if (!body) {
      res.writeHead(404).end('no such file');
      return;
    }
    const socket = res.socket as Socket;
    const every = (ms: number, fn: () => boolean) => {
      const t = setInterval(() => {
        if (res.destroyed || socket.destroyed || !fn()) {
          clearInterval(t);
          timers.delete(t);
        }
      }, ms);
      timers.add(t);
      res.once('close', () => {
        clearInterval(t);
        timers.delete(t);
      });
    };
    switch (mode) {
      case 'ok':
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/gzip' }).end(body);
        return;
      case 'reset':
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, Math.max(1, body.length >> 1)), () => socket.destroy());
        return;
      case 'reset-early':
        socket.destroy();
        return;
      case 'short':
        res.writeHead(200, { 'content-length': body.length + 1000 });
        res.write(body, () => socket.destroy());
        return;
      case 'endless': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024);
        chunk[0] = 0x1f;
        chunk[1] = 0x8b;
        res.write(chunk);
        chunk[0] = 0;
        chunk[1] = 0;
        every(1, () => {
          while (res.write(chunk)) {
            // fill the socket until it pushes back, then wait for the next tick
          }
          return true;
        });
        return;
      }
      case 'huge-length':
        res.writeHead(200, { 'content-length': 10_000_000_000 });
        res.write(body.subarray(0, 100));
        return;
      case 'gzip-encoding': {
        const encoded = gzipSync(body);
        res.writeHead(200, { 'content-length': encoded.length, 'content-encoding': 'gzip' }).end(encoded);
        return;
      }
      case 'gzip-encoding-raw':
        // the .gz itself under Content-Encoding: gzip: a client decoding it gets the raw IDX file.
        res.writeHead(200, { 'content-length': body.length, 'content-encoding': 'gzip' }).end(body);
        return;
      case 'bad-encoding': {
        const junk = Buffer.from('this is not gzip data at all, whatever the header says');
        res.writeHead(200, { 'content-length': junk.length, 'content-encoding': 'gzip' }).end(junk);
        return;
      }
      case 'trickle': {
        res.writeHead(200, { 'content-length': body.length });
        let i = 0;
        every(trickleMs, () => {
          if (i >= body.length) {
            res.end();
            return false;
          }
          res.write(body.subarray(i, i + 1));
          i++;
          return true;
        });
        return;
      }
      case 'stall':
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 10));
        return;
      case 'no-headers':
        return;
      case 'redirect-loop':
        res.writeHead(302, { location: `/redirect-loop/${name}` }).end();
        return;
      case 'redirect-ok':
        res.writeHead(302, { location: `/ok/${name}` }).end();
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': HTML.length }).end(HTML);
        return;
      case 'wrong': {
        const other = gzipSync(Buffer.from(body.length > 20 ? gunzipOrSelf(body).map((v, i) => (i > 16 ? 255 - v : v)) : body));
        res.writeHead(200, { 'content-length': other.length }).end(other);
        return;
      }
      case 'bad-dims': {
        // 1 MB of gzip that would inflate to a "dataset" of 1,369,568 images if the header were believed.
        const header = Buffer.alloc(16);
        header.writeUInt32BE(0x00000803, 0);
        header.writeUInt32BE(1_369_568, 4);
        header.writeUInt32BE(28, 8);
        header.writeUInt32BE(28, 12);
        const labelHeader = Buffer.alloc(8);
        labelHeader.writeUInt32BE(0x00000801, 0);
        labelHeader.writeUInt32BE(1_369_568, 4);
        const isImages = name.includes('images');
        const gz = gzipSync(Buffer.concat([isImages ? header : labelHeader, Buffer.alloc(4 * 1024 * 1024)]));
        res.writeHead(200, { 'content-length': gz.length }).end(gz);
        return;
      }
      case 'not-found':
        res.writeHead(404, { 'content-type': 'text/html' }).end(HTML);
        return;
      case 'gone':
        res.writeHead(410).end();
        return;
      case 'forbidden':
        res.writeHead(403).end('forbidden');
        return;
      case 'error':
        res.writeHead(500).end('internal error');
        return;
      case 'error-then-ok':
        if (n === 1) res.writeHead(500).end('internal error');
        else res.writeHead(200, { 'content-length': body.length }).end(body);
        return;
      case 'unavailable-then-ok':
        if (n <= 2) res.writeHead(503, { 'retry-after': '0' }).end('busy');
        else res.writeHead(200, { 'content-length': body.length }).end(body);
        return;
      default:
        res.writeHead(400).end('unknown mode');
    }
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    mirror: (mode) => `${base}/${mode}/`,
    count: (mode, name) => counts.get(`${mode}/${name}`) ?? 0,
    reset: () => counts.clear(),
    close: async () => {
      for (const t of timers) clearInterval(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function gunzipOrSelf(b: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(b));
  } catch {
    return b;
  }
}
