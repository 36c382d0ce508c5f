export { VM_RUN_COMMANDS, vmMachine, VM_STATES, type VmCommand, type VmLifecycleCommand, type VmLifecycleState, type VmRunCommand } from './vmMachine.js';
export { RUN_TRANSITIONS, vcpuMachine, VCPU_STATES, type VcpuCommand, type VcpuLifecycleCommand, type VcpuLifecycleState, type VcpuRunCommand, type VcpuRunState } from './vcpuMachine.js';
export { deviceMachine, DEVICE_STATES, type DeviceCommand } from './deviceMachine.js';
export { Lifecycle } from './lifecycle.js';
