#ifndef DCSIM_CLZ4_SHIM_H
#define DCSIM_CLZ4_SHIM_H
#include <lz4.h>
#include <lz4frame.h>

/* LZ4_COMPRESSBOUND is a function-like macro, which Swift cannot import. */
static inline int dcsim_lz4_compress_bound(int size) { return LZ4_COMPRESSBOUND(size); }
#endif
