/**
 * SMP guests: vCPUs of one VM that signal each other with inter-processor interrupts.
 */
import { PUTD, PUTS } from './lib.js';

export const SMP_IPI_SOURCE = String.raw`
; smp-ipi: vCPU 0 wakes every other vCPU with an inter-processor interrupt (IPI), ROUNDS times,
; and spins until each has answered with an IPI back (as Linux's smp_call_function waits); the
; others wait in hlt and answer from their IPI handler. Only vCPU 0 prints. Set VCPUS to the
; VM's vcpus. params: VCPUS, ROUNDS, WORK_NS (vCPU 0's work between rounds), ANSWER_NS
; (each other vCPU's work before it answers)
_start:
        movi r1, 64             ; a stack of 64 words per vCPU, below stacks_top (r0 = the vCPU index)
        mul r1, r1, r0
        movi sp, stacks_top
        sub sp, sp, r1
        movi r1, ivt
        csrw ivt, r1
        sti
        jnz r0, secondary
        movi r5, 0              ; rounds done
round:
        work WORK_NS
        movi r4, 1
send:
        movi r2, VCPUS
        bge r4, r2, sent
        out PORT_IPI_SEND, r4
        addi r4, r4, 1
        jmp send
sent:
        addi r5, r5, 1
wait:                           ; until woken[n] = rounds done, for every secondary n
        movi r4, 1
check:
        movi r2, VCPUS
        bge r4, r2, answered
        ld r1, [r4 + woken]
        addi r4, r4, 1
        bge r1, r5, check
        work 1000
        jmp wait
answered:
        movi r1, msg_round
        call puts
        mov r1, r5
        call putd
        movi r1, msg_answers
        call puts
        movi r1, VCPUS
        addi r1, r1, -1
        call putd
        movi r1, 10
        out PORT_CONSOLE_DATA, r1
        movi r2, ROUNDS
        blt r5, r2, round
        movi r1, msg_done
        call puts
        out PORT_POWER, r0
secondary:
        hlt                     ; wait for vCPU 0's IPI
        jmp secondary
ipi:
        push r1
        push r2
        csrr r1, vcpu
        jz r1, ipi_done         ; vCPU 0: the IPI is only a kick, the answers are in woken[]
        work ANSWER_NS          ; vCPU n: the work vCPU 0 asked for, then count it in woken[n] and kick vCPU 0
        ld r2, [r1 + woken]
        addi r2, r2, 1
        st r2, [r1 + woken]
        movi r2, 0
        out PORT_IPI_SEND, r2
ipi_done:
        pop r2
        pop r1
        iret
${PUTS}${PUTD}msg_round:  .string "smp-ipi: round "
msg_answers: .string ": answers from vCPUs: "
msg_done:   .string "smp-ipi: done, powering off\n"
woken:      .space 64
            .align 4
ivt:        .space VEC_IRQ_BASE
            .word 0, ipi
            .space 64
            .space 1024
stacks_top:
`;
export const SMP_IPI_DEFAULTS = { VCPUS: 2, ROUNDS: 4, WORK_NS: 50_000, ANSWER_NS: 20_000 } as const;
