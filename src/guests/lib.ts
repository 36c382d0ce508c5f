/**
 * Routines several bundled guests share, as assembly text to paste into their sources.
 */

/** `puts`: writes the NUL-terminated string at r1 to the console, one port write a character (clobbers r1, r3). */
export const PUTS = String.raw`puts:
        mov r3, r1
puts_loop:
        ld r1, [r3]
        jz r1, puts_done
        out PORT_CONSOLE_DATA, r1
        addi r3, r3, 1
        jmp puts_loop
puts_done:
        ret
`;

/** putd: writes r1 (>= 0) in decimal; clobbers r1, keeps r2..r4. */
export const PUTD = String.raw`putd:
        push r3
        push r4
        push r2
        movi r2, 10
        movi r3, 0
putd_digits:
        mod r4, r1, r2
        addi r4, r4, '0'
        push r4
        addi r3, r3, 1
        div r1, r1, r2
        jnz r1, putd_digits
putd_out:
        pop r1
        out PORT_CONSOLE_DATA, r1
        addi r3, r3, -1
        jnz r3, putd_out
        pop r2
        pop r4
        pop r3
        ret
`;
