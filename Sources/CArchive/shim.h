#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
// AE_IFREG is a macro Swift does not import.
static const unsigned int coex_archive_regular_file = AE_IFREG;
