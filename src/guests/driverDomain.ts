/**
 * The driver domain's guest (host.driverDomain): dom0's backend loop, as blkback and netback run
 * it. It takes every queued guest completion from the backend device (src/actors/devices/
 * backend.ts), runs BACKEND_NS of work for each and signals it done, which raises the guest's
 * interrupt; with none left it waits in `hlt` for its event channel (IRQ_BACKEND). An interrupt
 * between the last empty take and the `hlt` would leave it asleep, so the handler moves EPC past
 * that `hlt` (the restartable-idle trick of the workload guests). It prints one line at boot.
 */
import { PUTS } from './lib.js';
import { hltWakeHandler } from './workloads.js';

export const DRIVER_DOMAIN_SOURCE = String.raw`
; dom0-backend: the driver domain's backend loop; params: BACKEND_NS (work per completion)
_start:
        movi sp, stack_top
        movi r1, ivt
        csrw ivt, r1
        movi r1, banner
        call puts
        sti
take:
        in r1, PORT_BACKEND_TAKE        ; the next completion's id, -1 when none waits
        movi r2, 0
        blt r1, r2, sleep
        work BACKEND_NS
        out PORT_BACKEND_DONE, r1       ; done: the guest's interrupt is raised
        jmp take
sleep:  hlt
        jmp take
${hltWakeHandler('IRQ_BACKEND')}${PUTS}banner: .string "dom0: backend up\n"
        .align 4
ivt:    .space VEC_IRQ_BASE + IRQ_BACKEND
        .word irq
        .space 64
stack_top:
`;
export const DRIVER_DOMAIN_DEFAULTS = { BACKEND_NS: 20_000 } as const;
