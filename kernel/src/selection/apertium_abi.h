#pragma once
// The one function of ctxmgr-apertium.so, the module that reads Apertium's compiled bilingual
// dictionaries with lttoolbox (kernel/apertium/). The kernel loads it on first use instead of
// linking lttoolbox: lttoolbox and the ICU libraries it needs cost every process ~3 MB of memory
// as soon as they are mapped, and most servers never translate a query. A C signature: nothing
// of either side's C++ crosses.

#include <stddef.h>

extern "C" {

// Called once per lemma pair read: `from` and `to` are UTF-8, valid during the call only.
typedef void (*ctxmgr_apertium_pair_fn)(void* context, const char* from, const char* to);

// Reads the transducer at `path` and calls `pair` for each one-word lemma pair of its main
// section (numbers, patterns and multi-word lemmas left out). Returns the number of pairs, or -1
// with a sentence in `error` (NUL-terminated, cut to `error_size`). Never throws.
typedef long (*ctxmgr_apertium_pairs_fn)(const char* path, ctxmgr_apertium_pair_fn pair,
                                         void* context, char* error, size_t error_size);
}

// The exported name of that function.
#define CTXMGR_APERTIUM_PAIRS_SYMBOL "ctxmgr_apertium_pairs"
