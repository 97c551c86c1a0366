// A throwaway npm registry on 127.0.0.1 for the release dry run: just enough of the registry protocol for
// `npm info` (404 for unknown packages, the packument for known ones), `npm publish` / `pnpm publish` (PUT of the
// packument with the tarball attached) and tarball downloads. It keeps everything in memory and lets the caller
// inspect what was published. Node built-ins only.
import { createServer } from 'node:http';

/**
 * Starts the registry on a free port of 127.0.0.1.
 * @returns {Promise<{ url: string, published: Map<string, { manifest: object, tarball: Buffer, distTags: object, access: string | null }[]>, close: () => Promise<void> }>}
 */
export async function startLocalRegistry() {
  /** name → packument */
  const packuments = new Map();
  /** `${name}@${version}` → tarball bytes */
  const tarballs = new Map();
  const published = new Map();
  let url = '';

  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        const path = new URL(req.url, 'http://127.0.0.1').pathname;
        // Tarball: /@scope/name/-/name-1.2.3.tgz
        const tgz = /^\/(.+)\/-\/(.+\.tgz)$/.exec(path);
        if (req.method === 'GET' && tgz) {
          const name = decodeURIComponent(tgz[1]);
          const hit = [...tarballs.entries()].find(
            ([key]) => key.startsWith(`${name}@`) && tgz[2].endsWith(`-${key.slice(name.length + 1)}.tgz`),
          );
          if (!hit) return send(res, 404, { error: 'not_found' });
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return res.end(hit[1]);
        }
        const name = decodeURIComponent(path.slice(1));
        if (req.method === 'GET' || req.method === 'HEAD') {
          const doc = packuments.get(name);
          if (!doc) return send(res, 404, { error: 'not_found', reason: `${name} is not in the dry-run registry` });
          return send(res, 200, doc);
        }
        if (req.method === 'PUT') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (body.name !== name) return send(res, 400, { error: `name mismatch: ${body.name} vs ${name}` });
          const doc = packuments.get(name) ?? { _id: name, name, versions: {}, 'dist-tags': {}, time: {} };
          for (const [version, manifest] of Object.entries(body.versions ?? {})) {
            if (doc.versions[version]) return send(res, 409, { error: `cannot publish over the previously published version ${version}` });
            const attachment = Object.values(body._attachments ?? {})[0];
            if (!attachment) return send(res, 400, { error: 'no tarball attached' });
            const tarball = Buffer.from(attachment.data, 'base64');
            const file = `${name.replace(/^@[^/]+\//, '')}-${version}.tgz`;
            doc.versions[version] = { ...manifest, dist: { ...manifest.dist, tarball: `${url}/${name}/-/${file}` } };
            doc.time[version] = new Date().toISOString();
            tarballs.set(`${name}@${version}`, tarball);
            const list = published.get(name) ?? [];
            list.push({ manifest, tarball, distTags: body['dist-tags'] ?? {}, access: body.access ?? null });
            published.set(name, list);
          }
          Object.assign(doc['dist-tags'], body['dist-tags'] ?? {});
          packuments.set(name, doc);
          return send(res, 201, { ok: true, id: name });
        }
        return send(res, 405, { error: `${req.method} is not supported by the dry-run registry` });
      } catch (err) {
        return send(res, 500, { error: String(err?.message ?? err) });
      }
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    published,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
