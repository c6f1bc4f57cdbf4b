#ifndef DCSIM_COPENSSL_SHIM_H
#define DCSIM_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/* OPENSSL_free is a function-like macro, which Swift cannot import. */
static inline void dcsim_openssl_free(void *p) { OPENSSL_free(p); }
#endif
