// credit with BOOST and no ratelimit (scheduler.ratelimit: 0), for `vmmsim compare`
// (docs/scheduling.md, "Driver domain"): a BOOSTed waker preempts the running vCPU at once instead
// of after it has run 1 ms (Xen's sched_ratelimit_us). Needs the compiled sources (npm run build).
import { createPolicy } from '../../dist/index.js';

export default function createCreditRatelimit0(options) {
  return createPolicy('credit', { ...options, scheduler: { ...options.scheduler, ratelimitNs: 0 } });
}
