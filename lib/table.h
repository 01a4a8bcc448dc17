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
#include "argv.h"
#include "vstr.h"

#define TABLE_ALIASES 1

typedef struct table table;

table *table_open(const char *spec, int flags, vstr *err);
/* 1 found (value in result), 0 not found, -1 error (logged). */
int table_lookup(table *t, const char *key, vstr *result);
void table_close(table *t);
const char *table_spec(const table *t);

/* Tables notice when their file changes (checked through the open file,
 * so this works in a chroot jail too): lookups then read the new file.
 * When the new file cannot be read from where the process is (a chrooted
 * daemon cannot see the path), the table keeps its old contents and is
 * stale.  Returns the spec of a stale table (after checking every open
 * table for changes), or NULL.  The server skeleton asks between clients
 * and restarts the daemon. */
const char *table_stale_spec(void);

/* A list of tables from a parameter value ("hash:/a, texthash:/b"), searched
 * in order. */
typedef struct table_list table_list;
table_list *table_list_open(const char *specs, int flags, vstr *err);
int table_list_lookup(table_list *tl, const char *key, vstr *result);
void table_list_close(table_list *tl);

/* Split a list of table specs (or match list patterns) at commas and
 * whitespace, keeping "{...}" groups (inline:{ a=b, c=d }) whole.  NULL
 * (text in err) on an unbalanced '{'. */
argv_t *table_split(const char *s, vstr *err);

/* The text syntax of texthash tables and of postmap/postalias source
 * files: "key whitespace value" (flags 0) or aliases(5) "name: value"
 * (TABLE_ALIASES); lines starting with whitespace continue the previous
 * entry; '#' comment lines.  Keys are folded to lower case.  Malformed
 * lines are logged (label, line N) and skipped.  add() returning -1 stops
 * the parse and makes it return -1. */
typedef int (*table_add_fn)(void *ctx, const char *key, const char *value, int lineno);
int table_text_parse(const char *text, const char *label, int flags, table_add_fn add,
                     void *ctx);

/* Build PATH.db (type "hash" or "btree") from the text file PATH: a new
 * file PATH.db.tmpXXXXXXXX is written, fsynced and renamed over PATH.db,
 * so readers see either the old table or the new one.  Keys and values are
 * stored with their terminating NUL, as Postfix's tools store them.
 * 0, or -1 with the reason in err. */
int table_db_build(const char *type, const char *path, int flags, vstr *err);
/* Call print(key, value) for every entry of PATH.db. */
int table_db_dump(const char *type, const char *path,
                  void (*print)(void *ctx, const char *key, const char *value), void *ctx,
                  vstr *err);

/* Edits of an existing PATH.db, atomic like table_db_build(): the entries
 * are copied into a new file, changed there, and that file is fsynced and
 * renamed over PATH.db (keeping its owner and mode).
 * table_db_delete: KEY (folded to lower case) removed; 1 deleted, 0 not
 * there (the file is left alone), -1 error (text in err).
 * table_db_add_text: the entries of TEXT (table_text_parse() syntax, FLAGS;
 * LABEL names it in warnings) added; a missing PATH.db is created; an
 * existing key is kept with a warning unless REPLACE.  0 or -1. */
int table_db_delete(const char *type, const char *path, const char *key, vstr *err);
int table_db_add_text(const char *type, const char *path, const char *text, const char *label,
                      int flags, int replace, vstr *err);

/* The command-line table argument of postmap/postalias: "hash:/x",
 * "btree:/x", or a bare file name that gets DEFAULT_TYPE.  Only hash and
 * btree are accepted.  0 with malloc'ed *type and *path, or -1 (text in
 * err, nothing to free). */
int table_spec_split(const char *spec, const char *default_type, char **type, char **path,
                     vstr *err);

#endif
