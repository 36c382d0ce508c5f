/** `vmmsim debug [--port N]`: a Debug Adapter Protocol server over stdio, or on a TCP port (loopback). */
import { createServer } from 'node:net';
import { VmmsimDebugSession } from '../debug/session.js';

export interface DebugOptions {
  readonly port?: string;
}

export function debugCommand(options: DebugOptions, stderr: { write(text: string): void }): void {
  if (options.port === undefined) {
    const session = new VmmsimDebugSession();
    session.start(process.stdin, process.stdout);
    return;
  }
  const port = Number(options.port);
  const server = createServer((socket) => {
    const session = new VmmsimDebugSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  server.listen(port, '127.0.0.1', () => stderr.write(`vmmsim debug: Debug Adapter Protocol on 127.0.0.1:${(server.address() as { port: number }).port}\n`));
}
