/**
 * The hosts of a several-host scenario (src/core/scenario/hosts.ts) at run time: which host each
 * VM is on, and each host's share of the host frames. The simulated machine's memory is one
 * array of frames (every vCPU's interpreter reads it); each host owns a consecutive range of it,
 * as each owns a consecutive range of the physical CPUs (its cpupool). A VM's frames come from
 * its host's range, and a migration moves it into the destination's range (migration.ts).
 *
 * A host's range holds min(its memory, every VM's memory) frames: the array need not be as large
 * as the hosts' declared memory when the VMs could never fill it, and a host can still take every
 * VM of the scenario.
 */
import type { HostMemory } from '../../core/memory.js';
import { PAGE_BYTES } from '../../core/platform.js';
import type { HostEntrySpec, LinkSpec } from '../../core/scenario/hosts.js';
import { linkBetween } from '../../core/scenario/hosts.js';

interface HostRange {
  readonly spec: HostEntrySpec;
  readonly firstFrame: number;
  readonly endFrame: number;
}

export class HostSet {
  private readonly ranges: HostRange[] = [];
  private readonly byName = new Map<string, HostRange>();
  /** The host each VM is on, by VM name (scenario order). */
  private readonly placement = new Map<string, string>();

  constructor(
    readonly hosts: readonly HostEntrySpec[],
    readonly links: readonly LinkSpec[],
    vmPages: number,
  ) {
    let next = 0;
    for (const spec of hosts) {
      const frames = Math.min(spec.memoryBytes / PAGE_BYTES, vmPages);
      const range = { spec, firstFrame: next, endFrame: next + frames };
      next += frames;
      this.ranges.push(range);
      this.byName.set(spec.name, range);
    }
    this.frameCount = next;
  }

  /** Frames of the whole machine (the hosts' ranges end to end). */
  readonly frameCount: number;

  has(host: string): boolean {
    return this.byName.has(host);
  }

  names(): string[] {
    return this.hosts.map((host) => host.name);
  }

  hostOf(vm: string): string {
    return this.placement.get(vm) ?? this.hosts[0].name;
  }

  /** The host a physical CPU belongs to. */
  hostOfPcpu(pcpu: number): string {
    return (this.hosts.find((host) => host.pcpus.includes(pcpu)) ?? this.hosts[0]).name;
  }

  /** Takes frames for a VM on `host` (its build, or a migration's destination). */
  allocate(memory: HostMemory, host: string, pages: number, owner: string): number[] {
    const range = this.range(host);
    const free = memory.freeFramesIn(range.firstFrame, range.endFrame);
    if (pages > free) throw new RangeError(`host ${host}: ${owner} needs ${pages * PAGE_BYTES} bytes of memory, ${free * PAGE_BYTES} free (hosts[].memory)`);
    return memory.allocateIn(pages, owner, range.firstFrame, range.endFrame);
  }

  /** Bytes free on a host. */
  freeBytes(memory: HostMemory, host: string): number {
    const range = this.range(host);
    return memory.freeFramesIn(range.firstFrame, range.endFrame) * PAGE_BYTES;
  }

  place(vm: string, host: string): void {
    this.range(host);
    this.placement.set(vm, host);
  }

  /** When each link is free again (ns), by its hosts' names in order. */
  private readonly linkFreeAt = new Map<string, number>();

  /** Reserves the link between `a` and `b` for `durationNs` from `now` or when it is free; returns the start. */
  reserveLink(a: string, b: string, now: number, durationNs: number): number {
    const key = [a, b].sort().join('\u0000');
    const start = Math.max(now, this.linkFreeAt.get(key) ?? 0);
    this.linkFreeAt.set(key, start + durationNs);
    return start;
  }

  link(a: string, b: string): LinkSpec | undefined {
    return linkBetween(this.links, a, b);
  }

  private range(host: string): HostRange {
    const range = this.byName.get(host);
    if (range === undefined) throw new RangeError(`unknown host '${host}' (known: ${this.names().join(', ')})`);
    return range;
  }
}
