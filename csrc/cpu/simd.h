// Hot CPU loops are compiled twice, for x86-64-v3 (AVX2 + FMA) and for the baseline, and the
// loader picks one at run time: the extension stays portable yet fast where the CPU allows it.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SRKIT_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SRKIT_CPU_CLONES
#endif
