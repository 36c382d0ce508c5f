// credit with BOOST off (scheduler.boost: false), for `vmmsim compare` (docs/scheduling.md,
// "Driver domain"): the registry's credit policy with the scenario's parameters and no BOOST on
// wake-up, as a module so that one table holds credit with and without it. Needs the compiled
// sources (npm run build).
import { createPolicy } from '../../dist/index.js';

export default function createCreditNoBoost(options) {
  return createPolicy('credit', { ...options, scheduler: { ...options.scheduler, boost: false } });
}
