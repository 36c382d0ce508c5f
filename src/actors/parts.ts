/**
 * The component seam of the Simulation builder: the parts a run can be built with instead of the
 * standard ones. Every field is optional; a run without parts (the normal case) uses none of this.
 * The testing layer (src/testing/mutants/) builds deliberately broken parts here, one classic
 * isolation bug each, to show that the property suite catches it; this module knows nothing of
 * them and names none.
 *
 * Every injection point is outside the interpreter's hot loop: it changes how the system is built
 * (a memory map, a device, the scheduling policy) or is called at a rare point (a world switch, an
 * interrupt raise, an exception exit, a frame allocation, a hypercall's buffer check).
 *
 * `name` is recorded in the log's header (as `mutation`), so that replay, which resolves the name
 * through the testing layer's registry, rebuilds the same parts.
 */
import type { EventOf } from '../core/events.js';
import type { GuestPhysicalMap, HostMemory } from '../core/memory.js';
import type { MonitorCore } from './monitor/core.js';
import type { SchedulingPolicy } from './scheduler/policy.js';
import type { Vcpu } from './vcpu/vcpu.js';
import type { Vm } from './vm.js';

/** The parts the monitor calls at run time. */
export interface MonitorParts {
  /**
   * The world switch: called when `incoming` is dispatched on a physical CPU whose last vCPU was
   * `outgoing` (null for the first), after the incoming vCPU's own state is in place.
   */
  readonly worldSwitch?: (incoming: Vcpu, outgoing: Vcpu | null) => void;
  /**
   * Interrupt routing: the VM whose controller a line raised by a device of `from` is delivered to
   * (the standard routing: `from` itself). A part that reroutes moves the pending line itself.
   */
  readonly routeInterrupt?: (vms: readonly Vm[], from: Vm, line: number) => Vm;
  /**
   * Reads word `offset` of a hypercall's guest buffer at guest-physical `address` (undefined:
   * outside the VM). Standard: the word at address + offset, through the VM's map.
   */
  readonly hypercallBufferWord?: (vm: Vm, address: number, offset: number) => number | undefined;
  /** Exit handler overrides, by exit type: each returns true when it handled the exit. */
  readonly exits?: {
    readonly exception?: (core: MonitorCore, event: EventOf<'exit.exception'>) => boolean;
  };
}

/** Every part a Simulation can be built with. */
export interface SimulationParts extends MonitorParts {
  /** Recorded in the log's header as `mutation`; replay resolves it to the same parts. */
  readonly name: string;
  /** Builds a VM's guest-physical map over its frames (-1: not backed yet). */
  readonly guestMap?: (host: HostMemory, frames: readonly number[]) => GuestPhysicalMap;
  /** Called once every VM exists and is wired to the network, before anything runs. */
  readonly wire?: (vms: readonly Vm[]) => void;
  /** Wraps the scheduling policy (the scenario's, or one from outside the registry). */
  readonly policy?: (policy: SchedulingPolicy) => SchedulingPolicy;
  /**
   * A VM writes guest page `page`, mapped read-only on shared host `frame` (page sharing):
   * called before copy on write; returns true when it handled the write itself.
   */
  readonly sharedWrite?: (map: GuestPhysicalMap, page: number, frame: number) => boolean;
}
