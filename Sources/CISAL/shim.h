#ifndef DCSIM_CISAL_SHIM_H
#define DCSIM_CISAL_SHIM_H
#include <isa-l/erasure_code.h>
#include <isa-l/crc.h>
#include <isa-l/crc64.h>
#endif
