// credit2 with one run queue per core (Xen's credit2_runqueue=core) on the scenario's host.topology,
// for `vmmsim compare` (docs/study-scheduling.md, "Topology"): the same policy as the registry's
// credit2 with scheduler.runqueue: core, as a module so that one table holds every granularity.
// Needs the compiled sources (npm run build).
import { createPolicy } from '../../dist/index.js';

const GRANULARITY = 'core';

export default function createRunqueuePolicy(options) {
  const t = options.topology ?? { sockets: 1, coresPerSocket: options.pcpus, threadsPerCore: 1 };
  const runqueueSize = { cpu: 1, core: t.threadsPerCore, all: options.pcpus }[GRANULARITY];
  return createPolicy('credit2', { ...options, scheduler: { ...options.scheduler, runqueue: GRANULARITY, runqueueSize } });
}
