/**
 * Scheduling granularity (Xen's `sched-gran=cpu|core|socket`, core scheduling), for any policy, as
 * a wrapper around it.
 *
 * With granularity `core` (or `socket`), the threads of one core (or socket) run vCPUs of one VM
 * at a time: a VM never shares a core's caches and execution units with another VM, which is what
 * core scheduling is for (the L1TF and MDS side channels between SMT siblings). Xen groups a
 * domain's vCPUs into scheduling units of a core's size and switches the threads of a core
 * together (xen/common/sched/core.c, `sched_granularity`, `sched_unit`); here the monitor still
 * dispatches one vCPU at a time, and the wrapper keeps the rule:
 *
 * - a CPU picks only a vCPU of the VM its group's other threads run (any VM when they are idle);
 *   what the wrapped policy offers of another VM is held aside, in order;
 * - while a held vCPU waits, the threads of a group running another VM give up their vCPU at the
 *   end of the slice and pick nothing of it, so the group drains and the held vCPU's VM takes it
 *   (threads that cannot run a vCPU of their group's VM stay idle: the cost of core scheduling);
 * - when a group's first thread takes a VM, its idle siblings are asked to pick (they may run the
 *   same VM's other vCPUs).
 *
 * Simplified against Xen: units are not switched as one (threads switch at their own slice ends),
 * and a VM with fewer runnable vCPUs than threads leaves the others idle as Xen does, but only
 * while it holds the group. test/scheduler/granularity.test.ts checks the rule from the event log.
 * Deterministic: held vCPUs in the order they were held; groups in pCPU order.
 */
import type { Pick, PolicyHost, SchedEntity, SchedulingPolicy } from './policy.js';

/** `inner`, with the CPUs of each group (`groupOf[pcpu]`: the CPUs of pcpu's core or socket) running one VM at a time. */
export function withGranularity(inner: SchedulingPolicy, groupOf: readonly (readonly number[])[]): SchedulingPolicy {
  /** Per pCPU, the VM of the vCPU it runs or was last given, or null. */
  const owner: (string | null)[] = groupOf.map(() => null);
  const held: Pick[] = [];
  let host: PolicyHost | undefined;

  /** The VM the other threads of pcpu's group run, or null when they are idle. */
  const groupVm = (pcpu: number): string | null => {
    for (const cpu of groupOf[pcpu]) if (cpu !== pcpu && owner[cpu] !== null) return owner[cpu];
    return null;
  };

  /** Asks every idle CPU to pick again (a held vCPU may start in a free group; a drained one may run its VM again). */
  let waking = false;
  /** The CPUs in the middle of a pick (wakeIdle may pick at once: never on a CPU already picking). */
  const picking = new Set<number>();
  const wakeAll = (): void => {
    // wakeIdle may pick at once, and a pick may wake again: one sweep at a time.
    if (host === undefined || waking) return;
    waking = true;
    try {
      for (let cpu = 0; cpu < groupOf.length; cpu++) if (!picking.has(cpu)) host.wakeIdle(cpu);
    } finally {
      waking = false;
    }
  };

  /** The entities given to a CPU and not yet left, by key. */
  const given = new Map<number, number>();

  /** Drops a held copy of `entity` (it is queued again, or the policy offers it again). */
  const unhold = (entity: SchedEntity): void => {
    const index = held.findIndex((h) => h.entity.key === entity.key);
    if (index >= 0) held.splice(index, 1);
  };

  const take = (pcpu: number, pick: Pick): Pick => {
    const alone = groupVm(pcpu) === null;
    owner[pcpu] = pick.entity.vm;
    given.set(pick.entity.key, pcpu);
    // The group's first thread: its idle siblings may run the same VM's other vCPUs.
    if (alone && host !== undefined && !waking) for (const cpu of groupOf[pcpu]) if (!picking.has(cpu)) host.wakeIdle(cpu);
    return pick;
  };

  /**
   * The wrapped policy's pick, without an entity it already gave (a policy that keeps per-CPU
   * state about what it picked may offer a held entity again): such a copy is not run twice.
   */
  const offered = (pcpu: number, now: number): Pick | undefined => {
    for (let rounds = inner.waiting; rounds >= 0; rounds--) {
      const pick = inner.pick(pcpu, now);
      if (pick === undefined) return undefined;
      unhold(pick.entity);
      if (!given.has(pick.entity.key)) return pick;
    }
    return undefined;
  };

  const pickOn = (pcpu: number, now: number): Pick | undefined => {
    owner[pcpu] = null;
    const vm = groupVm(pcpu);
    if (vm === null) {
      // The group is free: a held vCPU first (it has waited for one), else the policy's choice.
      if (held.length > 0) {
        const pick = take(pcpu, held.shift() as Pick);
        wakeAll();
        return pick;
      }
      const pick = offered(pcpu, now);
      return pick === undefined ? undefined : take(pcpu, pick);
    }
    // The group runs `vm`. While another VM's vCPU waits for a group, nothing more of `vm` starts: the group drains.
    if (held.some((h) => h.entity.vm !== vm)) return undefined;
    const index = held.findIndex((h) => h.entity.vm === vm);
    if (index >= 0) return take(pcpu, held.splice(index, 1)[0]);
    const pick = offered(pcpu, now);
    if (pick === undefined) return undefined;
    if (pick.entity.vm === vm) return take(pcpu, pick);
    // Another VM's: it waits for this group to drain, or for another group to be free.
    held.push(pick);
    wakeAll();
    return undefined;
  };

  return {
    name: inner.name,
    attach(policyHost: PolicyHost): void {
      host = policyHost;
      inner.attach?.(policyHost);
    },
    enqueue(entity, now, reason): void {
      unhold(entity);
      given.delete(entity.key);
      inner.enqueue(entity, now, reason);
    },
    remove(entity): void {
      given.delete(entity.key);
      const index = held.findIndex((h) => h.entity.key === entity.key);
      if (index >= 0) held.splice(index, 1);
      else inner.remove(entity);
    },
    pick(pcpu, now): Pick | undefined {
      picking.add(pcpu);
      try {
        return pickOn(pcpu, now);
      } finally {
        picking.delete(pcpu);
      }
    },
    shouldPreempt(pcpu, current: SchedEntity, now): boolean {
      if (inner.shouldPreempt(pcpu, current, now)) return true;
      return held.some((h) => h.entity.vm !== current.vm);
    },
    extend: (pcpu, current, now) => inner.extend(pcpu, current, now),
    charge: (entity, ranNs, now) => inner.charge(entity, ranNs, now),
    leave(pcpu, entity, now): void {
      owner[pcpu] = null;
      given.delete(entity.key);
      inner.leave?.(pcpu, entity, now);
    },
    tick(now): void {
      inner.tick?.(now);
    },
    // The wrapped policy's server metrics (rtds) pass through, as adopt.ts passes them.
    ...(inner.deadlineMisses === undefined ? {} : { deadlineMisses: (entity: SchedEntity) => inner.deadlineMisses?.(entity) ?? 0 }),
    get waiting(): number {
      return inner.waiting + held.length;
    },
    snapshot(): unknown {
      return { inner: inner.snapshot(), held: held.map((h) => h.entity.id), owner: [...owner] };
    },
  };
}

/** Per pCPU, the CPUs of its core (`core`) or socket (`socket`), from the host's topology. */
export function granularityGroups(granularity: 'core' | 'socket', topology: { readonly sockets: number; readonly coresPerSocket: number; readonly threadsPerCore: number }): number[][] {
  const size = granularity === 'core' ? topology.threadsPerCore : topology.coresPerSocket * topology.threadsPerCore;
  const pcpus = topology.sockets * topology.coresPerSocket * topology.threadsPerCore;
  return Array.from({ length: pcpus }, (_, pcpu) => {
    const first = pcpu - (pcpu % size);
    return Array.from({ length: size }, (_, index) => first + index);
  });
}
