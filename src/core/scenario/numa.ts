/**
 * NUMA nodes of `host.topology` and where each VM's memory is placed (docs/scheduling.md, NUMA).
 *
 * A host's sockets are split evenly among `nodes` nodes, consecutive sockets to a node, so node n
 * holds the consecutive pCPUs of its sockets (Xen reads the nodes from ACPI's SRAT; `xl info -n`
 * lists them). Each VM's memory sits on one node: the one the scenario names (`vms[].numa.node`,
 * as a vNUMA `pnode=`), else the one libxl's automatic placement picks (tools/libs/light:
 * `numa_place_domain`, `libxl__get_numa_candidate`, `numa_cmpf`): among the single-node
 * candidates with enough free memory, the node with the fewest vCPUs placed on it, then with the
 * most free memory (then the lowest index), VMs placed in scenario order. libxl then sets the soft
 * affinity of every vCPU to the node's pCPUs, which is how Xen's schedulers are NUMA-aware (the
 * soft-affinity balancing step); a VM that names its own soft affinity keeps it (libxl skips
 * placement; here its memory goes to the best node among those its soft, else hard, mask reaches).
 * Pure functions of the scenario: the placement is written into the resolved scenario (the log's
 * header), so a run never recomputes it.
 */

export interface NumaTopology {
  readonly sockets: number;
  readonly coresPerSocket: number;
  readonly threadsPerCore: number;
  readonly nodes?: number;
}

export { REMOTE_SLOWDOWN_DEFAULT } from '../costs.js';

/** pCPUs per NUMA node (sockets split evenly). */
export function cpusPerNode(topology: NumaTopology): number {
  const nodes = topology.nodes ?? 1;
  return (topology.sockets / nodes) * topology.coresPerSocket * topology.threadsPerCore;
}

/** The node of a pCPU. */
export function nodeOfPcpu(topology: NumaTopology, pcpu: number): number {
  return Math.floor(pcpu / cpusPerNode(topology));
}

/** The pCPUs of a node, ascending. */
export function nodeCpus(topology: NumaTopology, node: number): number[] {
  const size = cpusPerNode(topology);
  return Array.from({ length: size }, (_, index) => node * size + index);
}

export interface PlacementVm {
  readonly vcpus: number;
  readonly memoryBytes: number;
  /** The node the scenario names, if any. */
  readonly node?: number;
  /** The pCPUs the VM may or prefers to run on (its soft mask, else its hard mask); absent: all. */
  readonly cpus?: readonly number[];
}

/**
 * The memory node of each VM, in order (libxl's automatic placement for those that name none).
 * Each node holds `hostMemoryBytes / nodes`; when no node has room for a VM, the candidates are
 * compared on vCPUs and free memory all the same (libxl would give the domain no node affinity).
 */
export function placeVms(topology: NumaTopology, hostMemoryBytes: number, vms: readonly PlacementVm[]): number[] {
  const nodes = topology.nodes ?? 1;
  const free = new Array<number>(nodes).fill(Math.floor(hostMemoryBytes / nodes));
  const vcpus = new Array<number>(nodes).fill(0);
  return vms.map((vm) => {
    let node = vm.node;
    if (node === undefined) {
      const reach = vm.cpus === undefined ? undefined : new Set(vm.cpus.map((cpu) => nodeOfPcpu(topology, cpu)));
      const candidates = Array.from({ length: nodes }, (_, index) => index).filter((index) => reach === undefined || reach.has(index));
      const roomy = candidates.filter((index) => free[index] >= vm.memoryBytes);
      const pool = roomy.length > 0 ? roomy : candidates;
      // numa_cmpf: fewer vCPUs first, then more free memory; the lowest index on a tie.
      node = pool.reduce((best, index) => (vcpus[index] < vcpus[best] || (vcpus[index] === vcpus[best] && free[index] > free[best]) ? index : best));
    }
    free[node] -= vm.memoryBytes;
    vcpus[node] += vm.vcpus;
    return node;
  });
}
