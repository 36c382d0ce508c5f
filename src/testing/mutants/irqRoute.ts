/** irq-route: an interrupt delivered to the wrong VM. */
import { neighbourOf, type Mutant } from './shared.js';

export const irqRoute: Mutant = {
  name: 'irq-route',
  bug: "an interrupt delivered to the wrong VM: a raised line lands on the next VM's interrupt controller",
  caughtBy: 'non-interference',
  parts: {
    name: 'irq-route',
    routeInterrupt(vms, from, line) {
      if (vms.length < 2) return from;
      // The line is taken off the raising VM and raised on the next one.
      from.pic.pending &= ~(1 << line);
      const to = neighbourOf(vms, from);
      to.pic.raise(line);
      return to;
    },
  },
};
