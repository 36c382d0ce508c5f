/**
 * Adopting the vCPUs of a run whose policy changes in the middle (a fork: `run --from LOG --at SEQ
 * --set scheduler...`). The new policy is built empty: it has never seen the vCPUs that run at
 * that instant, so charging them, asking it whether to preempt them or telling it they left would
 * reach bookkeeping it does not have (credit2's run queue of an unknown vCPU, credit's queue).
 *
 * As Xen's `sched_move_domain` (which pauses a domain, frees its units in the old scheduler and
 * inserts them in the new one), each vCPU running at the switch gives its CPU up at once: the
 * monitor preempts it (monitor.reconfigure), and until it has left, this wrapper answers for it
 * instead of the new policy: its time is not charged (the old policy's accounting ended at the
 * switch), it is preempted at its slice end and its leaving is not reported. Its next enqueue
 * is a `start` in the new policy (Xen's `sched_insert_unit`), or a `wake` if it blocked before
 * it left. Every other call goes through.
 *
 *     running (old policy) --switch--> adopted (preempted now) --leave--> unknown --enqueue(start)--> new policy's
 */
import type { EnqueueReason, PolicyHost, SchedEntity, SchedulingPolicy } from './policy.js';

/** The enqueue reasons of a vCPU that left its CPU still runnable. */
const LEFT_RUNNABLE: ReadonlySet<EnqueueReason> = new Set<EnqueueReason>(['preempt', 'yield']);

export function withAdoption(inner: SchedulingPolicy, running: readonly SchedEntity[]): SchedulingPolicy {
  /** The vCPUs still on a CPU since the switch, by key. */
  const adopted = new Set<number>(running.map((entity) => entity.key));
  /** The vCPUs that left since and whose next enqueue is their start in the new policy. */
  const arriving = new Set<number>();
  return {
    name: inner.name,
    attach(host: PolicyHost): void {
      inner.attach?.(host);
    },
    enqueue(entity: SchedEntity, now: number, reason?: EnqueueReason): void {
      // A vCPU preempted at the switch arrives in the new policy as a start; one that blocked
      // meanwhile wakes, as the vCPUs blocked at the switch do.
      const arrives = arriving.delete(entity.key);
      inner.enqueue(entity, now, arrives && reason !== undefined && LEFT_RUNNABLE.has(reason) ? 'start' : reason);
    },
    remove(entity: SchedEntity): void {
      if (arriving.delete(entity.key)) return;
      inner.remove(entity);
    },
    pick: (pcpu, now) => inner.pick(pcpu, now),
    shouldPreempt(pcpu, current, now): boolean {
      return adopted.has(current.key) || inner.shouldPreempt(pcpu, current, now);
    },
    extend: (pcpu, current, now) => inner.extend(pcpu, current, now),
    charge(entity, ranNs, now): void {
      if (!adopted.has(entity.key)) inner.charge(entity, ranNs, now);
    },
    leave(pcpu, entity, now): void {
      if (adopted.delete(entity.key)) {
        arriving.add(entity.key);
        return;
      }
      inner.leave?.(pcpu, entity, now);
    },
    ...(inner.forget === undefined ? {} : { forget: (entity: SchedEntity) => inner.forget?.(entity) }),
    ...(inner.tick === undefined ? {} : { tick: (now: number) => inner.tick?.(now) }),
    get waiting(): number {
      return inner.waiting;
    },
    ...(inner.deadlineMisses === undefined ? {} : { deadlineMisses: (entity: SchedEntity) => inner.deadlineMisses?.(entity) ?? 0 }),
    snapshot: () => inner.snapshot(),
    ...(inner.pools === undefined ? {} : { pools: inner.pools }),
  };
}
