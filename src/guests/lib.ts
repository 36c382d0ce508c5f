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
