#ifndef PIRVAULT_CSQLITE_SHIM_H
#define PIRVAULT_CSQLITE_SHIM_H
#include <sqlite3.h>

/// sqlite3_db_config is variadic, which Swift does not import: closing this
/// connection will not checkpoint the WAL into the database file.
static inline int pirvault_sqlite3_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
#endif
