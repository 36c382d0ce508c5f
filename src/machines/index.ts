export { vmMachine, VM_STATES, type VmCommand } from './vmMachine.js';
export { vcpuMachine, VCPU_STATES, type VcpuCommand } from './vcpuMachine.js';
export { deviceMachine, DEVICE_STATES, type DeviceCommand } from './deviceMachine.js';
export { Lifecycle } from './lifecycle.js';
