#ifndef PIRVAULT_CSODIUM_SHIM_H
#define PIRVAULT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
