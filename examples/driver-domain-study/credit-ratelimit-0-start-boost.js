// credit with BOOST, no ratelimit, and a vCPU's start BOOSTed as Xen's first vcpu_wake of a new
// vCPU does (csched_unit_wake), for `vmmsim compare` (docs/scheduling.md, "Driver domain"): does
// dom0's lock-in under ratelimit 0 come from dom0 starting at UNDER? Needs npm run build.
import { CreditPolicy } from '../../dist/actors/scheduler/credit.js';

export default function createCreditRatelimit0StartBoost(options) {
  return new CreditPolicy({ ...options, scheduler: { ...options.scheduler, ratelimitNs: 0 } }, { startBoost: true });
}
