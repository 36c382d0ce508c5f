/**
 * The `server` guest (docs/workloads.md): serves the requests a workload puts in the VM's request
 * queue (src/actors/devices/requests.ts). Every vCPU whose index is below WORKERS is a worker
 * task; the others halt. Two disciplines:
 *
 *   QUANTUM_NS = 0   run to completion (FCFS from one shared queue: with c workers, an M/G/c
 *                    server): take a request, `work` its size, complete it, take the next; when
 *                    the queue is empty, sleep in hlt until the device routes its line here
 *   QUANTUM_NS > 0   processor sharing on vCPU 0 (round-robin in slices of QUANTUM_NS over the
 *                    jobs it holds, at most PS_JOBS): the device interrupts on every arrival, the
 *                    handler sets a flag, and the worker takes the new jobs at the end of a slice
 *
 * Work is abstract (`work`), so a request costs a few instructions and exits, not its size in
 * instructions. The handler moves EPC past the `hlt` when the interrupt lands between the
 * worker's empty take and its sleep, so it takes again (the restartable-idle trick of
 * workloads.ts).
 */

export const PS_JOBS = 256;

export const SERVER_SOURCE = String.raw`
; server: takes requests from the request queue, runs them, completes them
_start:
        csrr r0, vcpu
        movi r1, 64
        mul r1, r1, r0
        movi r2, stacks + 64
        add r2, r2, r1
        mov sp, r2
        movi r1, ivt
        csrw ivt, r1
        movi r1, WORKERS
        blt r0, r1, worker
        cli
off:    hlt
        jmp off
worker:
        movi r1, QUANTUM_NS
        jz r1, fcfs
        jz r0, ps
        cli
        jmp off
; ---------------------------------------------------------------- run to completion
fcfs:
        movi r5, PORT_REQ_TAKE
        add r5, r5, r0
        movi r6, PORT_REQ_SIZE
        add r6, r6, r0
        sti
next:
        inr r1, r5
took:   movi r2, -1
        beq r1, r2, idle
        inr r2, r6
        workr r2
        out PORT_REQ_DONE, r1
        jmp next
idle:   nop
sleep:  hlt
        jmp next
; ---------------------------------------------------------------- processor sharing (vCPU 0)
ps:
        movi r1, 1
        out PORT_REQ_NOTIFY, r1
        sti
ps_poll:
        movi r1, 0
        st r1, [arrived]
ps_take:
        ld r3, [count]
        movi r2, PS_JOBS
        bge r3, r2, ps_run
        in r1, PORT_REQ_TAKE
        movi r2, -1
        beq r1, r2, ps_run
        in r2, PORT_REQ_SIZE
        movi r4, 2
        mul r4, r3, r4
        movi r5, jobs
        add r4, r4, r5
        st r1, [r4]
        st r2, [r4 + 1]
        addi r3, r3, 1
        st r3, [count]
        jmp ps_take
ps_run:
        ld r3, [count]
        jz r3, ps_idle
        ld r2, [cur]
        blt r2, r3, ps_slot
        movi r2, 0
ps_slot:
        st r2, [cur]
        movi r4, 2
        mul r4, r2, r4
        movi r5, jobs
        add r4, r4, r5
        ld r1, [r4 + 1]
        movi r6, QUANTUM_NS
        bge r6, r1, ps_last
        workr r6
        sub r1, r1, r6
        st r1, [r4 + 1]
        addi r2, r2, 1
        st r2, [cur]
        ld r1, [arrived]
        jnz r1, ps_poll
        jmp ps_run
ps_last:
        workr r1
        ld r1, [r4]
        out PORT_REQ_DONE, r1
        ; the last job moves into the finished one's slot
        addi r3, r3, -1
        st r3, [count]
        movi r5, 2
        mul r5, r3, r5
        movi r6, jobs
        add r5, r5, r6
        ld r1, [r5]
        st r1, [r4]
        ld r1, [r5 + 1]
        st r1, [r4 + 1]
        ld r1, [arrived]
        jnz r1, ps_poll
        jmp ps_run
ps_idle:
        ld r1, [arrived]
        jnz r1, ps_poll
psleep: hlt
        jmp ps_poll

irq:
        push r1
        push r2
        movi r2, 1
        st r2, [arrived]
        ; run to completion: interrupted after an empty take (r1 = -1) and before its hlt
        ; (took..sleep): take again instead of sleeping
        movi r2, -1
        bne r1, r2, irq_ps
        csrr r1, epc
        movi r2, took
        blt r1, r2, irq_ps_epc
        movi r2, sleep
        blt r2, r1, irq_ps_epc
        movi r1, next
        csrw epc, r1
        jmp irq_eoi
        ; processor sharing: interrupted between its flag check and its hlt (ps_idle..psleep)
irq_ps:
        csrr r1, epc
irq_ps_epc:
        movi r2, ps_idle
        blt r1, r2, irq_eoi
        movi r2, psleep
        blt r2, r1, irq_eoi
        movi r1, psleep + 4
        csrw epc, r1
irq_eoi:
        movi r1, IRQ_REQUEST
        out PORT_PIC_EOI, r1
        pop r2
        pop r1
        iret
arrived: .word 0
count:  .word 0
cur:    .word 0
        .align 4
ivt:    .space VEC_IRQ_BASE + IRQ_REQUEST
        .word irq
        .space 64
stacks: .space 64 * 33
jobs:   .space PS_JOBS * 2
`;

export const SERVER_DEFAULTS = { WORKERS: 32, QUANTUM_NS: 0, PS_JOBS } as const;
