/**
 * `vmmsim ui [SCENARIO | LOG]`: builds the web view if its build is missing or older than its
 * sources (with Vite, a development dependency), serves the static build on localhost and prints
 * the address. The page runs the simulation itself, in a Web Worker; the server only hands out
 * files: the build, and the scenario or log named on the command line (at /files/NAME), which
 * the page fetches (`?scenario=` or `?log=` in the address). Nothing is kept on the server.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.js';
import { loadScenarioFile } from './scenarioFile.js';

/** The web/ folder: next to src/ and dist/ in the package. */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
export const WEB_DIST = join(WEB_DIR, 'dist');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
  '.yml': 'text/yaml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

export interface UiOptions {
  readonly port?: string;
  readonly host?: string;
  /** Commander's `--no-build` sets this to false: serve the build as it is. */
  readonly build?: boolean;
}

export interface UiServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface StartOptions {
  /** A scenario (YAML) or an event log (JSON Lines) to open in the page. */
  readonly file?: string;
  readonly port?: number;
  readonly host?: string;
  /** Build when missing or stale (default), never, or always. */
  readonly build?: 'auto' | 'never' | 'always';
  readonly log?: (text: string) => void;
  /** Serve this folder instead of the web build (never built; for tests). */
  readonly root?: string;
}

/** What the named file is, checked before anything starts (bad input exits 2 at once). */
export function classifyFile(path: string): 'log' | 'scenario' {
  if (!existsSync(path) || !statSync(path).isFile()) throw new InputError(`${path}: no such file`);
  const head = readFileSync(path, { encoding: 'utf8', flag: 'r' }).slice(0, 200);
  if (/^\{"format":"vmmsim-log"/.test(head)) return 'log';
  if (extname(path) === '.jsonl') throw new InputError(`${path}: not a vmmsim event log (its first line is not a vmmsim-log header)`);
  loadScenarioFile(path);
  return 'scenario';
}

/** The newest modification time (ms) of the files under `paths` (folders walked). */
function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) if (entry !== 'node_modules' && entry !== 'dist') visit(join(path, entry));
    } else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const path of paths) visit(path);
  return newest;
}

/** Whether the build is missing, or older than the sources it is made from (when they are here). */
export function buildIsStale(): boolean {
  const built = join(WEB_DIST, 'index.html');
  if (!existsSync(built)) return true;
  const sources = join(WEB_DIR, 'src');
  if (!existsSync(sources)) return false;
  const root = resolve(WEB_DIR, '..');
  // The page bundles the simulation (not the CLI) and the examples.
  const bundled = ['core', 'machines', 'actors', 'guests', 'replay'].map((folder) => join(root, 'src', folder));
  // It also bundles the concepts it links to (docs/concepts.md) and the scenario schema its editor validates with.
  const inputs = [sources, join(WEB_DIR, 'tours'), join(WEB_DIR, 'index.html'), join(WEB_DIR, 'vite.config.ts'), ...bundled, join(root, 'examples'), join(root, 'docs', 'concepts.md'), join(root, 'schema')];
  return newestMtime(inputs) > statSync(built).mtimeMs;
}

export async function buildWeb(log: (text: string) => void = () => undefined): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new InputError(`the web view is not built (${WEB_DIST}) and Vite is not installed to build it: run npm install, then npm run build:web`);
  }
  log('building the web view with Vite...\n');
  await vite.build({ configFile: join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

/** Builds if needed, then serves the build (and the named file at /files/NAME). */
export async function startUi(options: StartOptions = {}): Promise<UiServer> {
  const kind = options.file === undefined ? undefined : classifyFile(options.file);
  const build = options.root !== undefined ? 'never' : (options.build ?? 'auto');
  if (build === 'always' || (build === 'auto' && buildIsStale())) await buildWeb(options.log);
  const root = resolve(options.root ?? WEB_DIST);
  if (!existsSync(join(root, 'index.html'))) throw new InputError(`the web view is not built (${root}): run npm run build:web`);
  const served = options.file === undefined ? undefined : { path: resolve(options.file), name: basename(options.file) };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let path: string;
    if (served !== undefined && url.pathname === `/files/${encodeURIComponent(served.name)}`) {
      path = served.path;
    } else {
      const relative = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
      path = join(root, relative === '' ? 'index.html' : relative);
      if (path !== root && !path.startsWith(root + sep)) return respond(response, 403, 'forbidden');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return respond(response, 405, 'method not allowed');
    if (!existsSync(path) || !statSync(path).isFile()) return respond(response, 404, 'not found');
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': statSync(path).size,
      'cache-control': 'no-cache',
    });
    if (request.method === 'HEAD') return response.end();
    createReadStream(path).pipe(response);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new InputError(`port ${options.port} is in use: choose another with --port (or 0 for any free port)`) : error),
    );
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let url = `http://${shownHost}:${port}/`;
  if (served !== undefined) url += `?${kind === 'log' ? 'log' : 'scenario'}=files/${encodeURIComponent(served.name)}`;
  return {
    url,
    server,
    close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())),
  };
}

function respond(response: import('node:http').ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text + '\n');
}

export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 65_535) throw new InputError(`--port: expected a port number (0 to 65535), got '${text}'`);
  return Number(text);
}

/**
 * The command: checks its input at once (bad input throws before anything starts), then builds
 * and serves; the promise settles once the server listens (or rejects with why it could not),
 * and the process lives as long as the server.
 */
export function uiCommand(path: string | undefined, options: UiOptions, out: { write(text: string): void }): Promise<UiServer> {
  const port = parsePort(options.port);
  if (path !== undefined) classifyFile(path);
  return startUi({ file: path, port, host: options.host, build: options.build === false ? 'never' : 'auto', log: (text) => out.write(text) }).then((ui) => {
    out.write(`vmmsim ui: ${ui.url}\n(the page runs the simulation in your browser; Ctrl-C stops this server)\n`);
    return ui;
  });
}
