/* The three symbols @jazzer.js/fuzzer's prebuilt addon (built against glibc 2.38 and GCC 13) needs beyond what
 * glibc 2.36 / GCC 12 (Debian 12) provide; preloaded by scripts/fuzz/glibc-compat/prepare.mjs. */
#include <stdlib.h>

/* glibc 2.38's C23 strtol/strtoul (which also accept a "0b" prefix, never used by libFuzzer's flag parsing). */
long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }
unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return strtoul(s, end, base); }

/* GCC 13's hook that makes a translation unit including <iostream> initialise the standard streams; GCC 12's
 * libstdc++ initialises them in its own constructor, so nothing is left to do. */
void _ZSt21ios_base_library_initv(void) {}
