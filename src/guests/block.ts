/**
 * Guests that drive the block device (src/actors/devices/block.ts): `blk-emulated` programs the
 * emulated registers, three port writes per request, and waits for each request's interrupt;
 * `blk-virtio` puts all its requests in a virtio-like queue in its memory and notifies the device
 * once. Both read REQUESTS different sectors (sector (7i + 3) mod 128 for request i), check every
 * word against the disk's pattern (platform.ts, diskPattern) and print
 * "NAME: REQUESTS reads, E errors" before powering off. `balloon-guest` runs a timer workload
 * and gives pages back when its balloon asks.
 */
import { PUTD, PUTS } from './lib.js';

export { PUTD } from './lib.js';

/** Shared by both block guests: the sector of request r5, the data check and the report. */
const BLOCK_COMMON = String.raw`
sector_of:                      ; r1 = (7 x r5 + 3) mod 128; clobbers r4
        movi r4, 7
        mul r1, r5, r4
        addi r1, r1, 3
        movi r4, 128
        mod r1, r1, r4
        ret
check:                          ; every word of every buffer against the disk pattern; r6 counts mismatches
        movi r5, 0
check_req:
        movi r1, REQUESTS
        bge r5, r1, report
        call sector_of
        movi r4, 16
        shl r1, r1, r4
        movi r4, 0x5a000000
        xor r1, r1, r4          ; expected word j = r1 + j
        movi r3, SECTOR_WORDS
        mul r3, r5, r3
        addi r3, r3, buffers
        movi r2, 0
check_word:
        ld r4, [r3]
        add r0, r1, r2
        beq r0, r4, word_ok
        addi r6, r6, 1
word_ok:
        addi r3, r3, 1
        addi r2, r2, 1
        movi r4, SECTOR_WORDS
        blt r2, r4, check_word
        addi r5, r5, 1
        jmp check_req
report:
        movi r1, msg_name
        call puts
        movi r1, REQUESTS
        call putd
        movi r1, msg_reads
        call puts
        mov r1, r6
        call putd
        movi r1, msg_errors
        call puts
        out PORT_POWER, r0
        hlt
${PUTS}${PUTD}msg_reads:  .string " reads, "
msg_errors: .string " errors\n"
`;

export const BLK_EMULATED_SOURCE = String.raw`
; blk-emulated: REQUESTS sector reads through the emulated block device: sector, buffer and
; command are three port writes (three exits) a request; it sleeps until the request's interrupt
; params: REQUESTS
        .equ SECTOR_WORDS, 128
        .equ BLK_READ, 1
        .equ BLK_DONE, 2
_start:
        movi r1, vectors
        csrw ivt, r1
        movi r5, 0              ; r5 = request
        movi r6, 0              ; r6 = errors
request:
        movi r1, REQUESTS
        bge r5, r1, check
        call sector_of
        out PORT_BLK_SECTOR, r1
        movi r3, SECTOR_WORDS
        mul r3, r5, r3
        addi r3, r3, buffers
        out PORT_BLK_BUFFER, r3
        movi r1, 0
        st r1, [done]
        movi r1, BLK_READ
        out PORT_BLK_COMMAND, r1
        sti
wait:
        ld r1, [done]
        jnz r1, completed
halt_at:
        hlt
        jmp wait
completed:
        cli
        in r1, PORT_BLK_COMMAND ; the status
        movi r2, BLK_DONE
        beq r1, r2, status_ok
        addi r6, r6, 1
status_ok:
        addi r5, r5, 1
        jmp request
on_blk:                         ; the request completed
        push r1
        push r2
        movi r1, 1
        st r1, [done]
        movi r1, IRQ_BLOCK
        out PORT_PIC_EOI, r1
        csrr r1, epc            ; interrupted just before the hlt: skip it
        movi r2, halt_at
        bne r1, r2, on_blk_ret
        addi r1, r1, 4
        csrw epc, r1
on_blk_ret:
        pop r2
        pop r1
        iret
${BLOCK_COMMON}msg_name:   .string "blk-emulated: "
done:       .word 0
vectors:
        .space VEC_IRQ_BASE + IRQ_BLOCK
        .word on_blk
        .space VECTOR_COUNT - (VEC_IRQ_BASE + IRQ_BLOCK) - 1
        .org 0x1000
buffers:    .space SECTOR_WORDS * REQUESTS
`;

export const BLK_VIRTIO_SOURCE = String.raw`
; blk-virtio: REQUESTS sector reads (at most 16) through the paravirtual block device: every
; request is a descriptor in a queue in guest memory, made available at once; one port write
; notifies the device of the whole batch, which completes with one interrupt
; params: REQUESTS
        .equ SECTOR_WORDS, 128
        .equ BLK_READ, 1
        .equ BLK_DONE, 2
        .equ VQ_AVAIL, 64       ; platform.ts: VIRTQ_AVAIL
        .equ VQ_USED, 82        ; platform.ts: VIRTQ_USED
_start:
        movi r1, vectors
        csrw ivt, r1
        movi r1, queue
        out PORT_VIRTIO_QUEUE, r1
        movi r5, 0              ; r5 = request
        movi r6, 0              ; r6 = errors
fill:                           ; descriptor r5 = [BLK_READ, sector, buffer, status 0]
        movi r1, REQUESTS
        bge r5, r1, filled
        movi r2, 4
        mul r2, r5, r2
        addi r2, r2, queue
        movi r1, BLK_READ
        st r1, [r2]
        call sector_of
        st r1, [r2 + 1]
        movi r3, SECTOR_WORDS
        mul r3, r5, r3
        addi r3, r3, buffers
        st r3, [r2 + 2]
        movi r1, 0
        st r1, [r2 + 3]
        addi r2, r5, queue + VQ_AVAIL + 2
        st r5, [r2]             ; avail.ring[r5] = descriptor r5
        addi r5, r5, 1
        jmp fill
filled:
        movi r1, REQUESTS
        st r1, [queue + VQ_AVAIL + 1]   ; avail.idx: the whole batch is available
        ld r1, [queue + VQ_USED]        ; notification suppression: the device is already busy
        movi r2, 1
        and r1, r1, r2
        jnz r1, go_wait
        out PORT_VIRTIO_NOTIFY, r0      ; one notification for the batch
go_wait:
        sti
wait:
        ld r1, [queue + VQ_USED + 1]    ; used.idx
        movi r2, REQUESTS
        bge r1, r2, completed
halt_at:
        hlt
        jmp wait
completed:
        cli
        movi r5, 0
statuses:                       ; every descriptor's status must read BLK_DONE
        movi r1, REQUESTS
        bge r5, r1, check
        movi r2, 4
        mul r2, r5, r2
        addi r2, r2, queue
        ld r1, [r2 + 3]
        movi r3, BLK_DONE
        beq r1, r3, status_ok
        addi r6, r6, 1
status_ok:
        addi r5, r5, 1
        jmp statuses
on_blk:                         ; the batch completed
        push r1
        push r2
        movi r1, IRQ_BLOCK
        out PORT_PIC_EOI, r1
        csrr r1, epc            ; interrupted just before the hlt: skip it
        movi r2, halt_at
        bne r1, r2, on_blk_ret
        addi r1, r1, 4
        csrw epc, r1
on_blk_ret:
        pop r2
        pop r1
        iret
${BLOCK_COMMON}msg_name:   .string "blk-virtio: "
vectors:
        .space VEC_IRQ_BASE + IRQ_BLOCK
        .word on_blk
        .space VECTOR_COUNT - (VEC_IRQ_BASE + IRQ_BLOCK) - 1
        .org 0x1000
queue:      .space 128
buffers:    .space SECTOR_WORDS * REQUESTS
`;
export const BLK_DEFAULTS = { REQUESTS: 8 } as const;

export const BALLOON_GUEST_SOURCE = String.raw`
; balloon-guest: a timer workload (BURST_NS of work every PERIOD_NS, a line every EVERY ticks,
; power off after TICKS) with a balloon driver: on the balloon interrupt it gives back the pages
; it does not use (from page FREE_FIRST up to, not including, its stack page), one port write each.
; At boot the driver probes the balloon (a read of PORT_BALLOON_SIZE: the host now knows a driver
; runs, as virtio's DRIVER_OK tells it); with TOUCH set the guest then zeroes a word of each of
; those pages, as a real guest touches its memory at boot, so that under demand paging they hold
; frames the balloon really gives back.
; params: PERIOD_NS, BURST_NS, EVERY, TICKS, FREE_FIRST, TOUCH
_start:
        movi r1, vectors
        csrw ivt, r1
        mov r1, sp              ; sp starts at the end of RAM: the stack's page is the last one
        movi r2, PAGE_WORDS
        div r1, r1, r2
        addi r1, r1, -1
        st r1, [last_free]
        in r1, PORT_BALLOON_SIZE ; the driver's probe
        movi r1, TOUCH
        jz r1, touched
        ld r2, [next_free]
        ld r3, [last_free]
        movi r4, PAGE_WORDS
touch:
        bge r2, r3, touched
        mul r1, r2, r4
        st r0, [r1]
        addi r2, r2, 1
        jmp touch
touched:
        movi r1, PERIOD_NS
        out PORT_TIMER_PERIOD, r1
        sti
idle:
        hlt
        ld r1, [ticks]
        movi r2, TICKS
        blt r1, r2, idle
        movi r1, msg_done
        call puts
        out PORT_POWER, r0
        hlt
on_timer:
        push r1
        push r2
        push r3
        ld r1, [ticks]
        addi r1, r1, 1
        st r1, [ticks]
        work BURST_NS
        movi r2, EVERY
        mod r2, r1, r2
        jnz r2, tick_done
        movi r1, msg_tick
        call puts
        ld r1, [ticks]
        call putd
        movi r1, msg_given
        call puts
        in r1, PORT_BALLOON_SIZE
        call putd
        movi r1, msg_pages
        call puts
tick_done:
        movi r1, IRQ_TIMER
        out PORT_PIC_EOI, r1
        pop r3
        pop r2
        pop r1
        iret
on_balloon:                     ; give back free pages while the balloon asks for more
        push r1
        push r2
        push r3
balloon_loop:
        in r1, PORT_BALLOON_TARGET
        jz r1, balloon_done
        ld r2, [next_free]
        ld r3, [last_free]
        bge r2, r3, balloon_done
        out PORT_BALLOON_GIVE, r2
        addi r2, r2, 1
        st r2, [next_free]
        jmp balloon_loop
balloon_done:
        movi r1, IRQ_BALLOON
        out PORT_PIC_EOI, r1
        pop r3
        pop r2
        pop r1
        iret
${PUTS}${PUTD}msg_tick:   .string "balloon-guest: tick "
msg_given:  .string ", balloon "
msg_pages:  .string " pages\n"
msg_done:   .string "balloon-guest: done\n"
ticks:      .word 0
next_free:  .word FREE_FIRST
last_free:  .word 0
vectors:
        .space VEC_IRQ_BASE + IRQ_TIMER
        .word on_timer
        .space IRQ_BALLOON - IRQ_TIMER - 1
        .word on_balloon
        .space VECTOR_COUNT - (VEC_IRQ_BASE + IRQ_BALLOON) - 1
`;
export const BALLOON_GUEST_DEFAULTS = { PERIOD_NS: 1_000_000, BURST_NS: 200_000, EVERY: 2, TICKS: 12, FREE_FIRST: 2, TOUCH: 0 } as const;
