#!/usr/bin/env node
// The vmmsim command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { mainAsync } from '../dist/cli/main.js';

// A closed pipe (vmmsim run | head) ends the output quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const color = process.stdout.isTTY === true && !('NO_COLOR' in process.env);
const code = await mainAsync(process.argv.slice(2), {
  stdout: { write: (text) => process.stdout.write(text) },
  stderr: { write: (text) => process.stderr.write(text) },
  stdin: process.stdin,
  color,
});
process.exitCode = code;
