#ifndef PIRVAULT_CSQLITE_SHIM_H
#define PIRVAULT_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
