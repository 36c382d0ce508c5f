/// <reference lib="webworker" />
/**
 * The simulation, in a Web Worker: the page sends a scenario, the worker runs it (the same code
 * as the CLI: the core is pure TypeScript) and streams the event log back. No server is involved.
 */
import type { WorkerReply, WorkerRequest } from './protocol.js';
import { compareScenario, resolveScenario, runScenario } from './runScenario.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let stopRequested = false;

function reply(message: WorkerReply): void {
  scope.postMessage(message);
}

scope.onmessage = (message: MessageEvent<WorkerRequest>) => {
  const request = message.data;
  if (request.kind === 'stop') {
    stopRequested = true;
    return;
  }
  stopRequested = false;
  if (request.kind === 'compare') {
    try {
      reply({ kind: 'compared', rows: compareScenario(request.scenarioText, request.file, request.archs, request.virts) });
    } catch (error) {
      reply({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  void start(request);
};

async function start(request: Extract<WorkerRequest, { kind: 'start' }>): Promise<void> {
  try {
    const scenario = resolveScenario(request.scenarioText, request.file, request.policy);
    const result = await runScenario(scenario, request.seed, {
      log: (text) => reply({ kind: 'log', text }),
      yieldNow: () => new Promise((resolve) => setTimeout(() => resolve(!stopRequested), 0)),
    });
    reply({ kind: 'done', summary: result.summary, metrics: result.metrics });
  } catch (error) {
    reply({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}
