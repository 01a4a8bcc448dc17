/* Lookup tables in "type:name" form: texthash (a text file read into
 * memory), hash/btree (read-only Berkeley DB files built by postalias or
 * postmap, re-opened when the file is replaced), inline:{...} and static:.
 * Also the text parsers (postmap and aliases(5) syntax) and the atomic
 * Berkeley DB builder that postalias/postmap use. */
#include "config.h"
#include <ctype.h>
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "argv.h"
#include "config_text.h"
#include "log.h"
#include "mem.h"
#include "safe_file.h"
#include "table.h"
#include "vstr.h"

#define TABLE_FILE_MAX_SIZE (256L * 1024 * 1024)
#define TABLE_LIST_MAX 100

/* ---- a small string hash table for texthash and inline ---- */

struct hentry {
    char *key;
    char *value;
    struct hentry *next;
};

struct htab {
    struct hentry **buckets;
    size_t nbuckets;    /* power of two */
    size_t count;
};

static uint32_t hash_string(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char) *s++) * 16777619u;
    return h;
}

static struct htab *htab_new(void)
{
    struct htab *h = xcalloc(1, sizeof(*h));

    h->nbuckets = 64;
    h->buckets = xcalloc(h->nbuckets, sizeof(*h->buckets));
    return h;
}

static struct hentry *htab_find(const struct htab *h, const char *key)
{
    struct hentry *e = h->buckets[hash_string(key) & (h->nbuckets - 1)];

    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    return e;
}

static void htab_grow(struct htab *h)
{
    size_t n = h->nbuckets * 2;
    struct hentry **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < h->nbuckets; i++) {
        struct hentry *e = h->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            size_t slot = hash_string(e->key) & (n - 1);
            e->next = b[slot];
            b[slot] = e;
        }
    }
    free(h->buckets);
    h->buckets = b;
    h->nbuckets = n;
}

/* 0 added, 1 key already present (kept the first value). */
static int htab_add(struct htab *h, const char *key, const char *value)
{
    struct hentry *e;
    size_t slot;

    if (htab_find(h, key))
        return 1;
    if (h->count >= h->nbuckets)
        htab_grow(h);
    e = xmalloc(sizeof(*e));
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    slot = hash_string(key) & (h->nbuckets - 1);
    e->next = h->buckets[slot];
    h->buckets[slot] = e;
    h->count++;
    return 0;
}

static void htab_free(struct htab *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->nbuckets; i++) {
        struct hentry *e = h->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e->key);
            free(e->value);
            free(e);
        }
    }
    free(h->buckets);
    free(h);
}

/* ---- helpers ---- */

static void fold_lower(char *s)
{
    for (; *s; s++)
        *s = (char) tolower((unsigned char) *s);
}

static char *trimmed_dup(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char) *s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char) s[len - 1]))
        len--;
    return xstrndup(s, len);
}

/* Table errors end up inside one log line: no newline at the end. */
static int file_slurp(const char *path, vstr *out, vstr *err)
{
    if (config_text_read(path, TABLE_FILE_MAX_SIZE, out, err) == 0)
        return 0;
    while (err->len > 0 && err->data[err->len - 1] == '\n')
        vstr_truncate(err, err->len - 1);
    return -1;
}

argv_t *table_split(const char *s, vstr *err)
{
    argv_t *a = argv_new();
    const char *p = s;

    for (;;) {
        while (*p && strchr(LIST_DELIMS, *p))
            p++;
        if (*p == 0)
            break;
        const char *start = p;
        while (*p && !strchr(LIST_DELIMS, *p)) {
            if (*p == '{') {
                int level = 0;
                do {
                    if (*p == '{')
                        level++;
                    else if (*p == '}')
                        level--;
                    if (level > 0)
                        p++;
                } while (*p && level > 0);
                if (level > 0) {
                    vstr_printf(err, "missing '}' in \"%.100s\"", start);
                    argv_free(a);
                    return NULL;
                }
            }
            p++;
        }
        argv_addn(a, start, (size_t) (p - start));
    }
    return a;
}

/* ---- text table syntax ---- */

/* Split one logical aliases(5) line into key and value. */
static int aliases_line(const char *line, char **key, char **value)
{
    const char *p = line, *colon;

    if (*p == '"') {
        const char *q = strchr(p + 1, '"');
        if (q == NULL)
            return -1;
        *key = xstrndup(p + 1, (size_t) (q - p - 1));
        colon = q + 1;
        while (isspace((unsigned char) *colon))
            colon++;
        if (*colon != ':') {
            xfree(*key);
            return -1;
        }
    } else {
        colon = strchr(p, ':');
        if (colon == NULL || colon == p)
            return -1;
        *key = trimmed_dup(p, (size_t) (colon - p));
    }
    *value = trimmed_dup(colon + 1, strlen(colon + 1));
    if (**key == 0 || **value == 0) {
        xfree(*key);
        xfree(*value);
        return -1;
    }
    return 0;
}

static int postmap_line(const char *line, char **key, char **value)
{
    const char *p = line;

    while (*p && !isspace((unsigned char) *p))
        p++;
    if (*p == 0)
        return -1;
    *key = xstrndup(line, (size_t) (p - line));
    *value = trimmed_dup(p, strlen(p));
    if (**value == 0) {
        xfree(*key);
        xfree(*value);
        return -1;
    }
    return 0;
}

static int logical_line_done(const char *line, int lineno, const char *label, int flags,
                             table_add_fn add, void *ctx)
{
    char *key = NULL, *value = NULL;
    int rc;

    if ((flags & TABLE_ALIASES ? aliases_line(line, &key, &value)
                               : postmap_line(line, &key, &value)) < 0) {
        msg_warn("%s, line %d: expected format: %s; line ignored", label, lineno,
                 flags & TABLE_ALIASES ? "name: value" : "key whitespace value");
        return 0;
    }
    fold_lower(key);
    rc = add(ctx, key, value, lineno);
    free(key);
    free(value);
    return rc;
}

struct text_parse_ctx {
    const char *label;
    int flags;
    table_add_fn add;
    void *ctx;
};

static int text_parse_line(const char *line, int lineno, void *ctx)
{
    struct text_parse_ctx *tc = ctx;

    return logical_line_done(line, lineno, tc->label, tc->flags, tc->add, tc->ctx);
}

static int text_parse_orphan(const char *line, int lineno, void *ctx)
{
    struct text_parse_ctx *tc = ctx;

    (void) line;
    msg_warn("%s, line %d: continuation line without a preceding entry; ignored", tc->label,
             lineno);
    return 0;
}

int table_text_parse(const char *text, const char *label, int flags, table_add_fn add,
                     void *ctx)
{
    struct text_parse_ctx tc = {label, flags, add, ctx};

    return config_text_lines(text, text_parse_line, text_parse_orphan, &tc);
}

struct htab_add_ctx {
    struct htab *h;
    const char *label;
};

static int htab_add_cb(void *ctx, const char *key, const char *value, int lineno)
{
    struct htab_add_ctx *c = ctx;

    if (htab_add(c->h, key, value))
        msg_warn("%s, line %d: duplicate entry: \"%.100s\"; the first one is used",
                 c->label, lineno, key);
    return 0;
}

/* ---- the table object ---- */

enum table_kind { T_TEXTHASH, T_DB, T_INLINE, T_STATIC };

struct table {
    char *spec;
    enum table_kind kind;
    struct htab *h;         /* texthash, inline */
    char *static_value;
    DB *db;
    DBTYPE dbtype;
    char *db_path;
    char *text_path;        /* texthash: the file, for reloading */
    int text_flags;
    int watch_fd;           /* the open file (DB: BDB's own fd), or -1 */
    struct timespec mtime;  /* its mtime when opened */
    int stale;              /* changed, and the new file could not be read */
    table *next_open;       /* every open file-backed table, for
                             * table_stale_spec() */
};

static table *open_tables;

static DB *db_open_readonly(const char *path, DBTYPE type, struct stat *st, vstr *err)
{
    DB *db;
    int rc, fd;

    if ((rc = db_create(&db, NULL, 0)) != 0) {
        vstr_printf(err, "db_create: %s", db_strerror(rc));
        return NULL;
    }
    if ((rc = db->open(db, NULL, path, NULL, type, DB_RDONLY, 0)) != 0) {
        vstr_printf(err, "open database %s: %s", path, db_strerror(rc));
        db->close(db, 0);
        return NULL;
    }
    if (db->fd(db, &fd) != 0 || fstat(fd, st) != 0) {
        if (stat(path, st) != 0)
            memset(st, 0, sizeof(*st));
    }
    return db;
}

/* Has the file under t changed since it was opened?  Checked through the
 * open descriptor, so it works in a chroot jail where the path is out of
 * sight: a file replaced by rename (postmap, postalias, most editors) has
 * no links left; a file rewritten in place has a new mtime. */
static int table_file_changed(const table *t)
{
    struct stat st;

    if (t->watch_fd < 0 || t->stale)
        return 0;
    if (fstat(t->watch_fd, &st) != 0)
        return 1;
    return st.st_nlink == 0 || st.st_mtim.tv_sec != t->mtime.tv_sec
        || st.st_mtim.tv_nsec != t->mtime.tv_nsec;
}

static void table_watch(table *t, int fd)
{
    struct stat st;

    t->watch_fd = fd;
    if (fd >= 0 && fstat(fd, &st) == 0)
        t->mtime = st.st_mtim;
}

static int db_watch_fd(DB *db)
{
    int fd;

    return db->fd(db, &fd) == 0 ? fd : -1;
}

static int texthash_load(table *t, vstr *err);

/* The file changed: read the new one in place of the old.  When that
 * fails (or a chroot jail hides the path) the old contents stay in use
 * and the table is stale: the daemon restarts to see the new file. */
static void table_reload(table *t)
{
    vstr *err = vstr_new(64);

    if (t->kind == T_DB) {
        struct stat st;
        DB *db = db_open_readonly(t->db_path, t->dbtype, &st, err);

        if (db != NULL) {
            t->db->close(t->db, 0);
            t->db = db;
            table_watch(t, db_watch_fd(db));
        }
    } else if (t->kind == T_TEXTHASH) {
        struct htab *old = t->h;
        int old_fd = t->watch_fd;

        t->h = NULL;
        if (texthash_load(t, err) == 0) {
            htab_free(old);
            close(old_fd);
        } else {
            htab_free(t->h);
            t->h = old;
            t->watch_fd = old_fd;
        }
    }
    if (err->len > 0) {
        if (msg_verbose)
            msg_info("%s: changed, but %s; still using the previous version", t->spec,
                     vstr_str(err));
        t->stale = 1;
    }
    vstr_free(err);
}

static void table_reload_if_changed(table *t)
{
    if (table_file_changed(t))
        table_reload(t);
}

const char *table_stale_spec(void)
{
    for (table *t = open_tables; t != NULL; t = t->next_open) {
        table_reload_if_changed(t);
        if (t->stale)
            return t->spec;
    }
    return NULL;
}

static int inline_parse(table *t, const char *body, vstr *err)
{
    const char *p = body, *end;
    argv_t *items;
    char *inner;

    while (isspace((unsigned char) *p))
        p++;
    end = p + strlen(p);
    while (end > p && isspace((unsigned char) end[-1]))
        end--;
    if (*p != '{' || end == p || end[-1] != '}' || end - p < 2) {
        vstr_printf(err, "%s: expected inline:{ key=value, ... }", t->spec);
        return -1;
    }
    inner = xstrndup(p + 1, (size_t) (end - p - 2));
    items = table_split(inner, err);
    free(inner);
    if (items == NULL) {
        vstr_printf(err, " in %s", t->spec);
        return -1;
    }
    t->h = htab_new();
    for (size_t i = 0; i < items->n; i++) {
        char *item = items->v[i], *eq, *key, *value;
        size_t len = strlen(item);

        if (item[0] == '{') {
            if (len < 2 || item[len - 1] != '}') {
                vstr_printf(err, "%s: text after '}' in \"%.100s\"", t->spec, item);
                argv_free(items);
                return -1;
            }
            item[len - 1] = 0;
            item++;
        } else if (strchr(item, '{') || strchr(item, '}')) {
            vstr_printf(err, "%s: misplaced brace in \"%.100s\"", t->spec, item);
            argv_free(items);
            return -1;
        }
        eq = strchr(item, '=');
        if (eq == NULL) {
            vstr_printf(err, "%s: missing '=' in \"%.100s\"", t->spec, item);
            argv_free(items);
            return -1;
        }
        key = trimmed_dup(item, (size_t) (eq - item));
        value = trimmed_dup(eq + 1, strlen(eq + 1));
        if (*key == 0) {
            vstr_printf(err, "%s: empty key in \"%.100s\"", t->spec, item);
            free(key);
            free(value);
            argv_free(items);
            return -1;
        }
        fold_lower(key);
        htab_add(t->h, key, value);
        free(key);
        free(value);
    }
    argv_free(items);
    return 0;
}

static int static_parse(table *t, const char *body, vstr *err)
{
    size_t len = strlen(body);

    if (body[0] == '{') {
        if (len < 2 || body[len - 1] != '}') {
            vstr_printf(err, "%s: expected static:{ text }", t->spec);
            return -1;
        }
        t->static_value = trimmed_dup(body + 1, len - 2);
    } else {
        t->static_value = xstrdup(body);
    }
    return 0;
}

/* Read t->text_path into a new t->h, keeping the file open to notice
 * changes. */
static int texthash_load(table *t, vstr *err)
{
    vstr *text = vstr_new(4096);
    struct htab_add_ctx c;
    int fd = open(t->text_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        vstr_printf(err, "open %s: %s", t->text_path, strerror(errno));
        vstr_free(text);
        return -1;
    }
    if (file_slurp(t->text_path, text, err) < 0) {
        close(fd);
        vstr_free(text);
        return -1;
    }
    t->h = htab_new();
    c.h = t->h;
    c.label = t->text_path;
    table_text_parse(vstr_str(text), t->text_path, t->text_flags, htab_add_cb, &c);
    vstr_free(text);
    table_watch(t, fd);
    return 0;
}

static int texthash_open(table *t, const char *path, int flags, vstr *err)
{
    t->text_path = xstrdup(path);
    t->text_flags = flags;
    return texthash_load(t, err);
}

table *table_open(const char *spec, int flags, vstr *err)
{
    const char *colon = strchr(spec, ':');
    table *t;
    size_t tlen;
    const char *name;
    int rc = -1;

    if (colon == NULL || colon == spec) {
        vstr_printf(err, "table \"%.200s\": expected type:name", spec);
        return NULL;
    }
    tlen = (size_t) (colon - spec);
    name = colon + 1;
    t = xcalloc(1, sizeof(*t));
    t->spec = xstrdup(spec);
    t->watch_fd = -1;
#define TYPE_IS(s) (tlen == strlen(s) && strncmp(spec, s, tlen) == 0)
    if (TYPE_IS("texthash")) {
        t->kind = T_TEXTHASH;
        if (*name == 0)
            vstr_printf(err, "%s: missing file name", spec);
        else
            rc = texthash_open(t, name, flags, err);
    } else if (TYPE_IS("hash") || TYPE_IS("btree")) {
        struct stat st;
        vstr *path = vstr_new(256);

        t->kind = T_DB;
        t->dbtype = TYPE_IS("hash") ? DB_HASH : DB_BTREE;
        vstr_printf(path, "%s.db", name);
        t->db_path = vstr_export(path);
        if (*name == 0) {
            vstr_printf(err, "%s: missing file name", spec);
        } else if ((t->db = db_open_readonly(t->db_path, t->dbtype, &st, err)) != NULL) {
            table_watch(t, db_watch_fd(t->db));
            rc = 0;
        }
    } else if (TYPE_IS("inline")) {
        t->kind = T_INLINE;
        rc = inline_parse(t, name, err);
    } else if (TYPE_IS("static")) {
        t->kind = T_STATIC;
        rc = static_parse(t, name, err);
    } else {
        vstr_printf(err, "table \"%.200s\": unsupported table type \"%.*s\" "
                    "(use hash, btree, texthash, inline or static)", spec, (int) tlen, spec);
    }
#undef TYPE_IS
    if (rc < 0) {
        table_close(t);
        return NULL;
    }
    if (t->watch_fd >= 0) {
        t->next_open = open_tables;
        open_tables = t;
    }
    return t;
}

static int db_get(DB *db, const char *key, size_t len, vstr *result)
{
    DBT k, v;
    int rc;

    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = (void *) key;
    k.size = (u_int32_t) len;
    rc = db->get(db, NULL, &k, &v, 0);
    if (rc == DB_NOTFOUND)
        return 0;
    if (rc != 0)
        return -rc;
    len = v.size;
    if (len > 0 && ((char *) v.data)[len - 1] == 0)
        len--;
    vstr_setn(result, v.data, len);
    return 1;
}

int table_lookup(table *t, const char *key, vstr *result)
{
    struct hentry *e;
    char *folded;
    int rc = 0;

    switch (t->kind) {
    case T_STATIC:
        vstr_set(result, t->static_value);
        return 1;
    case T_TEXTHASH:
        table_reload_if_changed(t);
        /* FALLTHROUGH */
    case T_INLINE:
        folded = xstrdup(key);
        fold_lower(folded);
        e = htab_find(t->h, folded);
        free(folded);
        if (e == NULL)
            return 0;
        vstr_set(result, e->value);
        return 1;
    case T_DB:
        table_reload_if_changed(t);
        folded = xstrdup(key);
        fold_lower(folded);
        /* Postfix-built files store the key with its NUL; try that first */
        rc = db_get(t->db, folded, strlen(folded) + 1, result);
        if (rc == 0)
            rc = db_get(t->db, folded, strlen(folded), result);
        free(folded);
        if (rc < 0) {
            msg_error("%s: lookup error: %s", t->spec, db_strerror(-rc));
            return -1;
        }
        return rc;
    }
    return 0;
}

void table_close(table *t)
{
    if (t == NULL)
        return;
    for (table **pp = &open_tables; *pp != NULL; pp = &(*pp)->next_open) {
        if (*pp == t) {
            *pp = t->next_open;
            break;
        }
    }
    if (t->kind == T_TEXTHASH && t->watch_fd >= 0)
        close(t->watch_fd);
    free(t->text_path);
    if (t->db)
        t->db->close(t->db, 0);
    htab_free(t->h);
    free(t->static_value);
    free(t->db_path);
    free(t->spec);
    free(t);
}

const char *table_spec(const table *t)
{
    return t->spec;
}

/* ---- lists of tables ---- */

struct table_list {
    table **tables;
    size_t n;
};

table_list *table_list_open(const char *specs, int flags, vstr *err)
{
    argv_t *a = table_split(specs, err);
    table_list *tl;

    if (a == NULL)
        return NULL;
    if (a->n > TABLE_LIST_MAX) {
        vstr_printf(err, "more than %d tables in \"%.100s\"", TABLE_LIST_MAX, specs);
        argv_free(a);
        return NULL;
    }
    tl = xcalloc(1, sizeof(*tl));
    tl->tables = xcalloc(a->n + 1, sizeof(*tl->tables));
    for (size_t i = 0; i < a->n; i++) {
        table *t = table_open(a->v[i], flags, err);
        if (t == NULL) {
            table_list_close(tl);
            argv_free(a);
            return NULL;
        }
        tl->tables[tl->n++] = t;
    }
    argv_free(a);
    return tl;
}

int table_list_lookup(table_list *tl, const char *key, vstr *result)
{
    for (size_t i = 0; i < tl->n; i++) {
        int rc = table_lookup(tl->tables[i], key, result);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void table_list_close(table_list *tl)
{
    if (tl == NULL)
        return;
    for (size_t i = 0; i < tl->n; i++)
        table_close(tl->tables[i]);
    free(tl->tables);
    free(tl);
}

/* ---- building Berkeley DB files (postalias, postmap) ---- */

static int db_type_parse(const char *type, DBTYPE *dbtype, vstr *err)
{
    if (strcmp(type, "hash") == 0)
        *dbtype = DB_HASH;
    else if (strcmp(type, "btree") == 0)
        *dbtype = DB_BTREE;
    else {
        vstr_printf(err, "unsupported database type \"%.50s\" (use hash or btree)", type);
        return -1;
    }
    return 0;
}

struct db_build_ctx {
    DB *db;
    const char *label;
    int replace;        /* overwrite existing keys (postmap -i -r) */
    vstr *err;
};

static int db_build_add(void *ctx, const char *key, const char *value, int lineno)
{
    struct db_build_ctx *c = ctx;
    DBT k, v;
    int rc;

    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    /* key and value both with their NUL, as Postfix's tools store them */
    k.data = (void *) key;
    k.size = (u_int32_t) strlen(key) + 1;
    v.data = (void *) value;
    v.size = (u_int32_t) strlen(value) + 1;
    rc = c->db->put(c->db, NULL, &k, &v, c->replace ? 0 : DB_NOOVERWRITE);
    if (rc == DB_KEYEXIST) {
        msg_warn("%s, line %d: duplicate entry: \"%.100s\"; the first one is used",
                 c->label, lineno, key);
        return 0;
    }
    if (rc != 0) {
        vstr_printf(c->err, "%s: write error: %s", c->label, db_strerror(rc));
        return -1;
    }
    return 0;
}

/* Create the new database file TMP (exclusively: a leftover of another
 * run is never reused). */
static DB *db_create_tmp(const char *tmp, DBTYPE dbtype, vstr *err)
{
    DB *db;
    int rc;

    if ((rc = db_create(&db, NULL, 0)) != 0) {
        vstr_printf(err, "db_create: %s", db_strerror(rc));
        return NULL;
    }
    if ((rc = db->open(db, NULL, tmp, NULL, dbtype, DB_CREATE | DB_EXCL, 0644)) != 0) {
        vstr_printf(err, "create database %s: %s", tmp, db_strerror(rc));
        db->close(db, 0);
        return NULL;
    }
    return db;
}

/* Close the finished temporary database DB (file TMP), give it OWNER's
 * owner (as root) and, with keep_mode, its permissions, fsync it and rename
 * it over DBPATH, so readers see either the old table or the new one.
 * The temporary file is removed on failure. */
static int db_tmp_commit(DB *db, const char *tmp, const char *dbpath, const struct stat *owner,
                         int keep_mode, vstr *err)
{
    int rc, fd;

    if ((rc = db->close(db, 0)) != 0) {
        vstr_printf(err, "close database %s: %s", tmp, db_strerror(rc));
        goto fail;
    }
    if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0) {
        vstr_printf(err, "open %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (owner && geteuid() == 0 && fchown(fd, owner->st_uid, owner->st_gid) != 0)
        msg_warn("chown %s: %s", tmp, strerror(errno));
    if (owner && keep_mode && fchmod(fd, owner->st_mode & 07777) != 0)
        msg_warn("chmod %s: %s", tmp, strerror(errno));
    if (fsync(fd) != 0) {
        vstr_printf(err, "fsync %s: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    close(fd);
    if (rename_durable(tmp, dbpath) != 0) {
        vstr_printf(err, "rename %s to %s: %s", tmp, dbpath, strerror(errno));
        goto fail;
    }
    return 0;

fail:
    unlink(tmp);
    return -1;
}

int table_db_build(const char *type, const char *path, int flags, vstr *err)
{
    DBTYPE dbtype;
    vstr *text, *tmp, *dbpath;
    struct db_build_ctx c;
    struct stat src;
    DB *db = NULL;
    int status = -1;

    if (db_type_parse(type, &dbtype, err) < 0)
        return -1;
    text = vstr_new(4096);
    tmp = vstr_new(256);
    dbpath = vstr_new(256);
    if (stat(path, &src) != 0) {
        vstr_printf(err, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (file_slurp(path, text, err) < 0)
        goto out;
    vstr_printf(dbpath, "%s.db", path);
    vstr_printf(tmp, "%s.db.tmp%08x", path, arc4random());
    if ((db = db_create_tmp(vstr_str(tmp), dbtype, err)) == NULL)
        goto out;
    c.db = db;
    c.label = path;
    c.replace = 0;
    c.err = err;
    if (table_text_parse(vstr_str(text), path, flags, db_build_add, &c) < 0) {
        db->close(db, 0);
        unlink(vstr_str(tmp));
        goto out;
    }
    /* as root, the table belongs to the owner of its source file */
    status = db_tmp_commit(db, vstr_str(tmp), vstr_str(dbpath), &src, 0, err);
out:
    vstr_free(text);
    vstr_free(tmp);
    vstr_free(dbpath);
    return status;
}

/* Copy every entry of the open database FROM into TO. */
static int db_copy_all(DB *from, DB *to, const char *label, vstr *err)
{
    DBC *cursor;
    DBT k, v;
    int rc;

    if ((rc = from->cursor(from, NULL, &cursor, 0)) != 0) {
        vstr_printf(err, "%s: cursor: %s", label, db_strerror(rc));
        return -1;
    }
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    while ((rc = cursor->get(cursor, &k, &v, DB_NEXT)) == 0) {
        if ((rc = to->put(to, NULL, &k, &v, 0)) != 0) {
            vstr_printf(err, "%s: write error: %s", label, db_strerror(rc));
            cursor->close(cursor);
            return -1;
        }
    }
    cursor->close(cursor);
    if (rc != DB_NOTFOUND) {
        vstr_printf(err, "%s: read error: %s", label, db_strerror(rc));
        return -1;
    }
    return 0;
}

/* An edit of PATH.db: the old entries are copied into a new temporary
 * file, edit() changes that copy (returning -1 on error, 0 for "nothing
 * changed", 1 for "changed"), and a changed copy is renamed over the old
 * file.  Without must_exist a missing PATH.db starts out empty.  Returns
 * edit()'s result, or -1. */
static int db_edit(const char *type, const char *path, int must_exist,
                   int (*edit)(DB *db, void *ctx, vstr *err), void *ctx, vstr *err)
{
    DBTYPE dbtype;
    vstr *tmp, *dbpath;
    struct stat old_st;
    int have_old = 0, result = -1;
    DB *old = NULL, *db = NULL;

    if (db_type_parse(type, &dbtype, err) < 0)
        return -1;
    tmp = vstr_new(256);
    dbpath = vstr_new(256);
    vstr_printf(dbpath, "%s.db", path);
    vstr_printf(tmp, "%s.db.tmp%08x", path, arc4random());
    if (stat(vstr_str(dbpath), &old_st) == 0) {
        if ((old = db_open_readonly(vstr_str(dbpath), dbtype, &old_st, err)) == NULL)
            goto out;
        have_old = 1;
    } else if (errno != ENOENT || must_exist) {
        vstr_printf(err, "%s: %s", vstr_str(dbpath), strerror(errno));
        goto out;
    }
    if ((db = db_create_tmp(vstr_str(tmp), dbtype, err)) == NULL)
        goto out;
    if (old && db_copy_all(old, db, vstr_str(dbpath), err) < 0)
        goto out_discard;
    if ((result = edit(db, ctx, err)) <= 0)
        goto out_discard;
    result = db_tmp_commit(db, vstr_str(tmp), vstr_str(dbpath), have_old ? &old_st : NULL,
                           have_old, err) < 0 ? -1 : result;
    db = NULL;
    goto out;

out_discard:
    db->close(db, 0);
    db = NULL;
    unlink(vstr_str(tmp));
out:
    if (old)
        old->close(old, 0);
    vstr_free(tmp);
    vstr_free(dbpath);
    return result;
}

struct db_delete_ctx {
    const char *key;
    const char *label;
};

static int db_delete_edit(DB *db, void *ctx, vstr *err)
{
    struct db_delete_ctx *c = ctx;
    int deleted = 0;

    /* with and without the terminating NUL, like table_lookup() */
    for (int with_nul = 1; with_nul >= 0; with_nul--) {
        DBT k;
        int rc;

        memset(&k, 0, sizeof(k));
        k.data = (void *) c->key;
        k.size = (u_int32_t) strlen(c->key) + (u_int32_t) with_nul;
        rc = db->del(db, NULL, &k, 0);
        if (rc == 0)
            deleted = 1;
        else if (rc != DB_NOTFOUND) {
            vstr_printf(err, "%s: delete error: %s", c->label, db_strerror(rc));
            return -1;
        }
    }
    return deleted;
}

int table_db_delete(const char *type, const char *path, const char *key, vstr *err)
{
    char *folded = xstrdup(key);
    struct db_delete_ctx c;
    int rc;

    fold_lower(folded);
    c.key = folded;
    c.label = path;
    rc = db_edit(type, path, 1, db_delete_edit, &c, err);
    free(folded);
    return rc;
}

struct db_add_ctx {
    const char *text;
    const char *label;
    int flags;
    int replace;
};

static int db_add_edit(DB *db, void *ctx, vstr *err)
{
    struct db_add_ctx *a = ctx;
    struct db_build_ctx c;

    c.db = db;
    c.label = a->label;
    c.replace = a->replace;
    c.err = err;
    return table_text_parse(a->text, a->label, a->flags, db_build_add, &c) < 0 ? -1 : 1;
}

int table_db_add_text(const char *type, const char *path, const char *text, const char *label,
                      int flags, int replace, vstr *err)
{
    struct db_add_ctx a = {text, label, flags, replace};

    return db_edit(type, path, 0, db_add_edit, &a, err) < 0 ? -1 : 0;
}

int table_spec_split(const char *spec, const char *default_type, char **type, char **path,
                     vstr *err)
{
    const char *colon = strchr(spec, ':');

    if (colon && colon != spec && spec[0] != '/') {
        *type = xstrndup(spec, (size_t) (colon - spec));
        *path = xstrdup(colon + 1);
    } else {
        *type = xstrdup(default_type);
        *path = xstrdup(spec);
    }
    if (**path == 0) {
        vstr_printf(err, "%.200s: missing file name", spec);
        goto fail;
    }
    if (strcmp(*type, "hash") != 0 && strcmp(*type, "btree") != 0) {
        vstr_printf(err, "%.200s: unsupported table type \"%.50s\" (use hash or btree)", spec,
                    *type);
        goto fail;
    }
    return 0;
fail:
    xfree(*type);
    xfree(*path);
    return -1;
}

int table_db_dump(const char *type, const char *path,
                  void (*print)(void *ctx, const char *key, const char *value), void *ctx,
                  vstr *err)
{
    DBTYPE dbtype;
    vstr *dbpath, *key, *value;
    struct stat st;
    DBC *cursor;
    DBT k, v;
    DB *db;
    int rc;

    if (db_type_parse(type, &dbtype, err) < 0)
        return -1;
    dbpath = vstr_new(256);
    vstr_printf(dbpath, "%s.db", path);
    db = db_open_readonly(vstr_str(dbpath), dbtype, &st, err);
    vstr_free(dbpath);
    if (db == NULL)
        return -1;
    if ((rc = db->cursor(db, NULL, &cursor, 0)) != 0) {
        vstr_printf(err, "%s: cursor: %s", path, db_strerror(rc));
        db->close(db, 0);
        return -1;
    }
    key = vstr_new(64);
    value = vstr_new(64);
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    while ((rc = cursor->get(cursor, &k, &v, DB_NEXT)) == 0) {
        size_t klen = k.size, vlen = v.size;
        if (klen > 0 && ((char *) k.data)[klen - 1] == 0)
            klen--;
        if (vlen > 0 && ((char *) v.data)[vlen - 1] == 0)
            vlen--;
        vstr_setn(key, k.data, klen);
        vstr_setn(value, v.data, vlen);
        print(ctx, vstr_str(key), vstr_str(value));
    }
    cursor->close(cursor);
    db->close(db, 0);
    vstr_free(key);
    vstr_free(value);
    if (rc != DB_NOTFOUND) {
        vstr_printf(err, "%s: read error: %s", path, db_strerror(rc));
        return -1;
    }
    return 0;
}
