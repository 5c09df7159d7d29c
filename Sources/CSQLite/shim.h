#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: one fixed-argument wrapper per use.

// Memory statistics take a process-wide mutex on every allocation, which loads running
// on several threads would contend for; coex never reads them. Call before any open.
static inline int coex_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
