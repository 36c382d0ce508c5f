#!/usr/bin/env node
/* global console, process */
// Memory per idle VM (issue 13): builds COUNT VMs of 16 KiB guest RAM running the bundled compute
// guest, not started, and prints the heap plus array buffers per VM after a full GC (as npm run
// bench measures it) and the resident size. Usage: node --expose-gc scripts/idle-memory.mjs <repo root> [count=1000] [none]
// (`none`: the VMs declare no block device and no NIC).
const [root, countArg = '1000', none] = process.argv.slice(2);
const count = Number(countArg);
const { Simulation } = await import(root + '/dist/actors/simulation.js');
const { guestVm, testScenario } = await import(root + '/dist/testing/scenario.js');
const gc = globalThis.gc;
const devices = none === 'none' ? { devices: { block: 'none', nic: 'none' } } : {};
gc(); gc();
const before = process.memoryUsage();
const vms = Array.from({ length: count }, (_, index) => ({ ...guestVm(`vm${index}`, ''), guest: { kind: 'bundled', name: 'compute' }, memoryBytes: 16 * 1024, ...devices }));
const simulation = new Simulation({ scenario: testScenario(vms, { host: { pcpus: 1, memoryBytes: Math.max(1 << 30, count * 32 * 1024) } }) });
gc(); gc();
const after = process.memoryUsage();
const bytes = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / count;
console.log(`${root} N=${count} ${none ?? ''}: ${(bytes / 1024).toFixed(1)} KiB per VM (${((bytes - 16384) / 1024).toFixed(1)} KiB beyond 16 KiB RAM), rss ${(after.rss / 2 ** 20).toFixed(0)} MiB, vms ${simulation.vms.length}`);
