/**
 * Hard and soft affinity (`xl vcpu-pin`) for any policy, as a wrapper around it.
 *
 * Hard affinity is a guarantee, enforced here so that it holds for every policy, policy modules
 * included: an entity the wrapped policy picks for a physical CPU outside its hard mask is not run
 * there. It is held aside, the idle CPUs of its mask are asked to pick, and the first CPU of its
 * mask that picks takes it before asking the wrapped policy. A busy CPU of its mask gives up its
 * current vCPU at the end of the slice while a held entity waits for it.
 *
 * Soft affinity is a preference. Held entities are offered in Xen's two balancing steps
 * (`for_each_affinity_balance_step` in xen/common/sched/private.h): first one whose soft mask
 * names the picking CPU, then one whose hard mask does. What the wrapped policy picks itself is
 * not reordered: credit's `csched_runq_steal` and credit2's `csched2_res_pick` soft step are not
 * modelled inside those policies (docs/scheduling.md, fidelity table).
 *
 * Deterministic: held entities are kept in the order they were held; masks are sorted.
 */
import type { AffinitySpec } from '../../core/scenario/schema.js';
import type { Pick, PolicyHost, SchedEntity, SchedulingPolicy } from './policy.js';

interface Held {
  readonly pick: Pick;
}

/** Whether `entity` may run on `pcpu` (no hard mask: anywhere). */
export function hardAllows(entity: SchedEntity, pcpu: number): boolean {
  const hard = entity.affinity?.hard;
  return hard === undefined || hard.includes(pcpu);
}

/** Whether `entity` prefers `pcpu` (no soft mask: it prefers every CPU its hard mask allows). */
export function softPrefers(entity: SchedEntity, pcpu: number): boolean {
  const soft = entity.affinity?.soft;
  return (soft === undefined || soft.includes(pcpu)) && hardAllows(entity, pcpu);
}

/**
 * The soft balancing step of Xen (`has_soft_affinity` and the soft mask): true only for an entity
 * that has a soft mask naming `pcpu` (and a hard mask allowing it). Entities without soft affinity
 * are left to the hard step, as `for_each_affinity_balance_step` skips them in the soft one.
 */
export function softStep(entity: SchedEntity, pcpu: number): boolean {
  const soft = entity.affinity?.soft;
  return soft !== undefined && soft.includes(pcpu) && hardAllows(entity, pcpu);
}

/** Whether any VM of the scenario sets an affinity (only then is the wrapper used). */
export function usesAffinity(vms: readonly { readonly sched: { readonly affinity?: AffinitySpec } }[]): boolean {
  return vms.some((vm) => vm.sched.affinity?.hard !== undefined || vm.sched.affinity?.soft !== undefined);
}

/** `inner` with hard affinity enforced and soft affinity preferred for held entities. */
export function withAffinity(inner: SchedulingPolicy, pcpus: number): SchedulingPolicy {
  const held: Held[] = [];
  let host: PolicyHost | undefined;

  const takeHeld = (pcpu: number): Pick | undefined => {
    // Step one: soft affinity; step two: hard affinity (for_each_affinity_balance_step).
    // The soft step counts only entities that have a soft mask naming this CPU (has_soft_affinity):
    // counting those without one let a later held vCPU overtake one whose soft mask excludes this
    // CPU at every hand-over, for ever (round-robin and cfs starved it).
    let index = held.findIndex((h) => softStep(h.pick.entity, pcpu));
    if (index < 0) index = held.findIndex((h) => hardAllows(h.pick.entity, pcpu));
    if (index < 0) return undefined;
    return held.splice(index, 1)[0].pick;
  };

  const hold = (pick: Pick): void => {
    held.push({ pick });
    const hard = pick.entity.affinity?.hard;
    if (host === undefined || hard === undefined) return;
    // Soft CPUs first, so that an idle preferred CPU takes it before another allowed one.
    for (const cpu of hard) if (softPrefers(pick.entity, cpu) && cpu < pcpus) host.wakeIdle(cpu);
    for (const cpu of hard) if (!softPrefers(pick.entity, cpu) && cpu < pcpus) host.wakeIdle(cpu);
  };

  return {
    name: inner.name,
    attach(policyHost: PolicyHost): void {
      host = policyHost;
      inner.attach?.(policyHost);
    },
    enqueue(entity, now, reason): void {
      inner.enqueue(entity, now, reason);
    },
    remove(entity): void {
      const index = held.findIndex((h) => h.pick.entity.key === entity.key);
      if (index >= 0) held.splice(index, 1);
      else inner.remove(entity);
    },
    pick(pcpu, now): Pick | undefined {
      const fromHeld = takeHeld(pcpu);
      if (fromHeld !== undefined) return fromHeld;
      // Bounded: each round takes one entity out of the wrapped policy.
      for (let rounds = inner.waiting; rounds >= 0; rounds--) {
        const pick = inner.pick(pcpu, now);
        if (pick === undefined) return undefined;
        if (hardAllows(pick.entity, pcpu)) return pick;
        hold(pick);
      }
      return undefined;
    },
    shouldPreempt(pcpu, current, now): boolean {
      if (inner.shouldPreempt(pcpu, current, now)) return true;
      return held.some((h) => hardAllows(h.pick.entity, pcpu));
    },
    extend: (pcpu, current, now) => inner.extend(pcpu, current, now),
    charge: (entity, ranNs, now) => inner.charge(entity, ranNs, now),
    leave(pcpu, entity, now): void {
      inner.leave?.(pcpu, entity, now);
    },
    tick(now): void {
      inner.tick?.(now);
    },
    forget(entity): void {
      const index = held.findIndex((h) => h.pick.entity.key === entity.key);
      if (index >= 0) held.splice(index, 1);
      inner.forget?.(entity);
    },
    // The wrapped policy's server metrics (rtds) pass through, as adopt.ts passes them.
    ...(inner.deadlineMisses === undefined ? {} : { deadlineMisses: (entity: SchedEntity) => inner.deadlineMisses?.(entity) ?? 0 }),
    get waiting(): number {
      return inner.waiting + held.length;
    },
    snapshot(): unknown {
      return { inner: inner.snapshot(), held: held.map((h) => h.pick.entity.id) };
    },
  };
}
