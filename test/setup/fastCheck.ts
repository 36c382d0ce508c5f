/**
 * fast-check's global settings for every test file (vitest.config.ts's setupFiles).
 *
 * fast-check 4 sizes what it generates by `baseSize` ("small") even when an arbitrary gives its own
 * bound: `fc.array(x, { maxLength: 60 })` drew at most 10 to 12 elements, and `fc.string({
 * maxLength: 200 })` at most 10 characters, so every property here that asked for long sequences
 * tested short ones (the TLB's replacement order was never exercised past a full TLB). With
 * `defaultSizeToMaxWhenMaxSpecified`, an explicit `maxLength` is the bound the lengths are drawn
 * up to. Arbitraries with a maxLength of 10 or less draw exactly what they drew before (the
 * small size is 10), and those without a maxLength keep the small size.
 * (test/setup/fastCheck.test.ts checks that this is in force.)
 */
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });
