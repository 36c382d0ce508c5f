/**
 * Xen's cpupools (xen/common/sched/cpupool.c) as one SchedulingPolicy made of several: each pool
 * owns a set of physical CPUs and runs its own policy on them, with its own parameters; every VM
 * belongs to one pool, and its vCPUs are only ever handed to that pool's policy and picked by
 * that pool's CPUs.
 *
 * A pool's policy sees its CPUs as 0..n-1 (the pool's CPUs in ascending order), as if it ran
 * alone on an n-CPU host: its `pick`, `shouldPreempt`, `extend` and `leave` get the local index,
 * and what it asks of the host (`preempt`, `wakeIdle`) is turned back into the global one. Hard
 * and soft affinity masks are seen the same way: the part of the mask inside the pool, in local
 * indices; a hard mask with no CPU in the pool counts as the whole pool (Xen resets affinity on
 * a move, sched_move_domain, and breaks an affinity that leaves no CPU of the pool).
 *
 * Moving a VM to another pool (`xl cpupool-migrate`, Xen's sched_move_domain) is `move`: from
 * then on its vCPUs go to the new pool's policy. The monitor takes its runnable vCPUs out of the
 * old policy before the move and puts them in the new one after; a running vCPU gives its CPU up
 * at once (`shouldPreempt` is true for a vCPU on a CPU outside its pool), charged and left in the
 * pool it ran in. The old pool's policy then forgets the VM's vCPUs (`forget`, Xen's
 * sched_free_udata): at once for those not running, as it leaves its CPU for a running one. The
 * first time a moved vCPU is enqueued in its new pool it comes as a `start` (sched_insert_unit).
 *
 * Ticks: each pool's policy asks for its own; the earliest is asked of the host, and a tick is
 * handed to every pool whose request is due, in pool order. Deterministic: pools in scenario
 * order; the maps iterated are the VMs' pools (scenario order) and the entities seen (the order
 * they were first enqueued, itself deterministic).
 */
import type { AffinitySpec } from '../../core/scenario/schema.js';
import type { Pick, PolicyHost, SchedEntity, SchedulingPolicy } from './policy.js';

export interface PoolPart {
  readonly name: string;
  /** The pool's physical CPUs, ascending (global indices). */
  readonly pcpus: readonly number[];
  /** The pool's policy, built for `pcpus.length` CPUs numbered 0..n-1. */
  readonly policy: SchedulingPolicy;
}

/** What the monitor's kick asks of a partitioned policy (see SchedulingPolicy.pools). */
export interface PoolRouting {
  /** The pool (an index) that owns a physical CPU. */
  poolOf(pcpu: number): number;
  /** Entities waiting in a pool's policy. */
  waitingIn(pool: number): number;
}

export interface CpupoolPolicy extends SchedulingPolicy {
  readonly pools: PoolRouting;
  /** The pool of a VM, by name. */
  poolOfVm(vm: string): string;
  /** Every VM's pool, for a policy built again in the middle of a run (a fork). */
  assignment(): ReadonlyMap<string, string>;
  /** Routes the VM's vCPUs to pool `to` from now on (the monitor moves its runnable vCPUs around it). */
  move(vm: string, to: string): void;
}

interface View {
  readonly source: AffinitySpec | undefined;
  readonly entity: SchedEntity;
}

export function cpupoolPolicy(parts: readonly PoolPart[], initial: ReadonlyMap<string, string>): CpupoolPolicy {
  if (parts.length === 0) throw new RangeError('cpupools: at least one pool');
  const poolIndexByName = new Map(parts.map((part, index) => [part.name, index] as const));
  const poolOfPcpu: number[] = [];
  const localOfPcpu: number[] = [];
  parts.forEach((part, pool) => {
    part.pcpus.forEach((pcpu, local) => {
      if (poolOfPcpu[pcpu] !== undefined) throw new RangeError(`cpupools: physical CPU ${pcpu} is in two pools`);
      poolOfPcpu[pcpu] = pool;
      localOfPcpu[pcpu] = local;
    });
  });
  const vmPool = new Map<string, number>();
  for (const [vm, name] of initial) {
    const index = poolIndexByName.get(name);
    if (index === undefined) throw new RangeError(`cpupools: VM ${vm} names unknown pool ${name}`);
    vmPool.set(vm, index);
  }
  /** The pool each running entity runs in (its charge and leave go there), by key. */
  const runningIn = new Map<number, number>();
  /** Every entity enqueued so far, by key (a move finds its VM's vCPUs here), in the order first seen. */
  const seen = new Map<number, SchedEntity>();
  /** Moved entities that were running in their old pool: it forgets them when they leave. */
  const forgetOnLeave = new Set<number>();
  /** The pool each entity was last enqueued in, by key (a change means it was moved). */
  const enqueuedIn = new Map<number, number>();
  /** Per pool, the pool's view of each entity with affinity, by key. */
  const views = parts.map(() => new Map<number, View>());
  /** Per pool, the tick it asked for (Infinity: none). */
  const tickDue = parts.map(() => Number.POSITIVE_INFINITY);
  let host: PolicyHost | undefined;

  const poolOfEntity = (entity: SchedEntity): number => vmPool.get(entity.vm) ?? 0;

  const localMask = (pool: number, mask: readonly number[] | undefined): readonly number[] | undefined => {
    if (mask === undefined) return undefined;
    const local = mask.filter((pcpu) => poolOfPcpu[pcpu] === pool).map((pcpu) => localOfPcpu[pcpu]);
    return local.length === 0 ? undefined : local;
  };

  /** null's `pcpu` parameter in the pool's numbering: -1 (any) when the CPU is not the pool's. */
  const localParams = (pool: number, params: Readonly<Record<string, number>>): Readonly<Record<string, number>> => {
    const pcpu = params.pcpu;
    if (pcpu === undefined || pcpu < 0) return params;
    return { ...params, pcpu: poolOfPcpu[pcpu] === pool ? localOfPcpu[pcpu] : -1 };
  };

  /**
   * The entity as pool `pool`'s policy sees it: affinity and a pinned `pcpu` in local indices
   * (the same object when it has neither).
   */
  const viewIn = (pool: number, entity: SchedEntity): SchedEntity => {
    const affinity = entity.affinity;
    if (affinity === undefined && entity.params.pcpu === undefined) return entity;
    const cache = views[pool];
    const cached = cache.get(entity.key);
    if (cached !== undefined && cached.source === affinity) return cached.entity;
    const hard = localMask(pool, affinity?.hard);
    const soft = localMask(pool, affinity?.soft);
    const localAffinity = hard === undefined && soft === undefined ? undefined : { ...(hard === undefined ? {} : { hard }), ...(soft === undefined ? {} : { soft }) };
    const view: SchedEntity = {
      key: entity.key,
      id: entity.id,
      vm: entity.vm,
      ...(entity.index === undefined ? {} : { index: entity.index }),
      get params() {
        return localParams(pool, entity.params);
      },
      ...(localAffinity === undefined ? {} : { affinity: localAffinity }),
    };
    cache.set(entity.key, { source: affinity, entity: view });
    return view;
  };

  const hostFor = (pool: number): PolicyHost => {
    const pcpus = parts[pool].pcpus;
    return {
      get now() {
        return (host as PolicyHost).now;
      },
      preempt: (local) => (host as PolicyHost).preempt(pcpus[local]),
      wakeIdle: (local) => {
        if (pcpus[local] !== undefined) (host as PolicyHost).wakeIdle(pcpus[local]);
      },
      requestTick: (time) => {
        if (time >= tickDue[pool]) return;
        tickDue[pool] = time;
        (host as PolicyHost).requestTick(time);
      },
    };
  };

  const chargedPool = (entity: SchedEntity): number => runningIn.get(entity.key) ?? poolOfEntity(entity);

  return {
    name: `cpupools(${parts.map((part) => `${part.name}:${part.policy.name}`).join(',')})`,
    pools: {
      poolOf: (pcpu) => poolOfPcpu[pcpu],
      waitingIn: (pool) => parts[pool].policy.waiting,
    },
    poolOfVm: (vm) => parts[vmPool.get(vm) ?? 0].name,
    assignment: () => new Map([...vmPool].map(([vm, pool]) => [vm, parts[pool].name] as const)),
    move(vm, to): void {
      const index = poolIndexByName.get(to);
      if (index === undefined) throw new RangeError(`unknown cpupool '${to}' (known: ${parts.map((part) => part.name).join(', ')})`);
      const from = vmPool.get(vm) ?? 0;
      vmPool.set(vm, index);
      if (from === index) return;
      // The old pool's policy forgets the VM's vCPUs (sched_free_udata): now those not running,
      // a running one when it leaves its CPU (leave).
      for (const entity of seen.values()) {
        if (entity.vm !== vm) continue;
        if (runningIn.get(entity.key) === from) forgetOnLeave.add(entity.key);
        else parts[from].policy.forget?.(viewIn(from, entity));
      }
    },
    attach(policyHost): void {
      host = policyHost;
      parts.forEach((part, pool) => part.policy.attach?.(hostFor(pool)));
    },
    enqueue(entity, now, reason): void {
      const pool = poolOfEntity(entity);
      // The first time a moved vCPU reaches its new pool it is new to that policy, as Xen's
      // sched_move_domain inserts it afresh (sched_insert_unit): it starts there.
      seen.set(entity.key, entity);
      const before = enqueuedIn.get(entity.key);
      enqueuedIn.set(entity.key, pool);
      parts[pool].policy.enqueue(viewIn(pool, entity), now, before !== undefined && before !== pool ? 'start' : reason);
    },
    remove(entity): void {
      const pool = poolOfEntity(entity);
      parts[pool].policy.remove(viewIn(pool, entity));
    },
    pick(pcpu, now): Pick | undefined {
      const pool = poolOfPcpu[pcpu];
      const pick = parts[pool].policy.pick(localOfPcpu[pcpu], now);
      if (pick !== undefined) runningIn.set(pick.entity.key, pool);
      return pick;
    },
    shouldPreempt(pcpu, current, now): boolean {
      const pool = poolOfPcpu[pcpu];
      // Moved to another pool while it ran here: it gives the CPU up at once.
      if (poolOfEntity(current) !== pool) return true;
      return parts[pool].policy.shouldPreempt(localOfPcpu[pcpu], viewIn(pool, current), now);
    },
    extend(pcpu, current, now): number {
      const pool = poolOfPcpu[pcpu];
      return parts[pool].policy.extend(localOfPcpu[pcpu], viewIn(pool, current), now);
    },
    charge(entity, ranNs, now): void {
      const pool = chargedPool(entity);
      parts[pool].policy.charge(viewIn(pool, entity), ranNs, now);
    },
    leave(pcpu, entity, now): void {
      const pool = poolOfPcpu[pcpu];
      runningIn.delete(entity.key);
      parts[pool].policy.leave?.(localOfPcpu[pcpu], viewIn(pool, entity), now);
      if (forgetOnLeave.delete(entity.key) && poolOfEntity(entity) !== pool) parts[pool].policy.forget?.(viewIn(pool, entity));
    },
    tick(now): void {
      parts.forEach((part, pool) => {
        if (tickDue[pool] > now) return;
        tickDue[pool] = Number.POSITIVE_INFINITY;
        part.policy.tick?.(now);
      });
      // The host keeps one request: ask again for the earliest still pending.
      const next = Math.min(...tickDue);
      if (next !== Number.POSITIVE_INFINITY) (host as PolicyHost).requestTick(next);
    },
    get waiting(): number {
      let total = 0;
      for (const part of parts) total += part.policy.waiting;
      return total;
    },
    deadlineMisses(entity): number {
      const pool = poolOfEntity(entity);
      return parts[pool].policy.deadlineMisses?.(viewIn(pool, entity)) ?? 0;
    },
    snapshot(): unknown {
      return {
        pools: parts.map((part) => ({ name: part.name, pcpus: [...part.pcpus], scheduler: part.policy.snapshot() })),
        vms: Object.fromEntries([...vmPool].map(([vm, pool]) => [vm, parts[pool].name])),
      };
    },
  };
}
