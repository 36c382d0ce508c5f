// credit2 with one run queue per cpu (Xen's credit2_runqueue=cpu) on the scenario's host.topology,
// for `vmmsim compare` (docs/study-scheduling.md, "Topology"): the same policy as the registry's
// credit2 with scheduler.runqueue: cpu, as a module so that one table holds every granularity.
// Needs the compiled sources (npm run build).
import { createPolicy } from '../../dist/index.js';

const GRANULARITY = 'cpu';

export default function createRunqueuePolicy(options) {
  const t = options.topology ?? { sockets: 1, coresPerSocket: options.pcpus, threadsPerCore: 1 };
  const runqueueSize = { cpu: 1, core: t.threadsPerCore, all: options.pcpus }[GRANULARITY];
  return createPolicy('credit2', { ...options, scheduler: { ...options.scheduler, runqueue: GRANULARITY, runqueueSize } });
}
