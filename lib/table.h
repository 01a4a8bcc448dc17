/* Lookup tables in Postfix's "type:name" form, used by every *_maps
 * parameter:
 *   texthash:/path   text file read into memory (postmap syntax)
 *   hash:/path       Berkeley DB hash built by postmap/postalias (/path.db)
 *   btree:/path      Berkeley DB btree (/path.db)
 *   inline:{ key=value, { key = value with spaces } }
 *   static:value     every key maps to value
 * Keys are folded to lower case, as Postfix does.  TABLE_ALIASES selects the
 * aliases(5) text syntax ("name: value", continuation lines) for texthash. */
#ifndef POSTHORN_TABLE_H
#define POSTHORN_TABLE_H
#include "vstr.h"

#define TABLE_ALIASES 1

typedef struct table table;

table *table_open(const char *spec, int flags, vstr *err);
/* 1 found (value in result), 0 not found, -1 error (logged). */
int table_lookup(table *t, const char *key, vstr *result);
void table_close(table *t);
const char *table_spec(const table *t);

/* A list of tables from a parameter value ("hash:/a, texthash:/b"), searched
 * in order. */
typedef struct table_list table_list;
table_list *table_list_open(const char *specs, int flags, vstr *err);
int table_list_lookup(table_list *tl, const char *key, vstr *result);
void table_list_close(table_list *tl);

#endif
