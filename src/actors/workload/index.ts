/** Open workloads: arrival processes, request sizes and the driver that feeds a VM's devices. */
import type { EventBus } from '../../core/bus.js';
import type { Kernel } from '../../core/kernel.js';
import type { RandomSource } from '../../core/prng.js';
import type { VmSpec } from '../../core/scenario/schema.js';
import type { Vm } from '../vm.js';
import { WorkloadDriver } from './driver.js';

export { WorkloadDriver, WorkloadFileError, parseColumn } from './driver.js';
export { exponential, meanOf, sampler, standardNormal, uniform01 } from './distributions.js';

/** Builds and starts one driver per VM that has a workload, each on the VM's own stream. */
export function startWorkloads(
  kernel: Kernel,
  bus: EventBus,
  vms: readonly Vm[],
  specs: readonly VmSpec[],
  random: RandomSource,
  readFile: ((path: string) => string) | undefined,
): WorkloadDriver[] {
  const drivers: WorkloadDriver[] = [];
  specs.forEach((spec, index) => {
    const workload = spec.workload;
    if (workload === undefined) return;
    const read = (path: string): string => {
      if (readFile === undefined) throw new Error(`VM ${spec.name}: no way to read workload file ${path}`);
      return readFile(path);
    };
    const driver = new WorkloadDriver(kernel, bus, vms[index], workload, random.stream(`vm/${spec.name}/workload`), read);
    driver.start();
    drivers.push(driver);
  });
  return drivers;
}
