/**
 * Builds the web view (`npm run build:web`, or `vmmsim ui` when the build is missing or stale):
 * static files in web/dist with relative paths, so any web server (or a folder of the docs) can
 * serve them. The page bundles the simulation core and runs it in a Web Worker.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    reportCompressedSize: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's sources carry /* @__PURE__ */ comments in places Rollup ignores: harmless noise.
        if (warning.code === 'INVALID_ANNOTATION') return;
        warn(warning);
      },
    },
  },
  worker: { format: 'es' },
  resolve: {
    // codemirror-json-schema renders hover Markdown with Shiki (about 1 MB); the schema's texts are plain.
    alias: [{ find: /^\.\.\/utils\/markdown(\.js)?$/, replacement: fileURLToPath(new URL('src/vendor/plainMarkdown.ts', import.meta.url)) }],
  },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
