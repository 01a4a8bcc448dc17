/* postmap: build Berkeley DB lookup tables from "key value" text files
 * (FILE -> FILE.db, replaced atomically), query them (-q key, -q - for
 * keys on standard input), dump them (-s), delete a key (-d) and add
 * entries from standard input (-i).  The table code lives in lib/table.c
 * (shared with postalias); this file is only the command line. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "params.h"
#include "table.h"
#include "vstr.h"

/* Bound on what -i and -q - read from standard input. */
#define POSTMAP_STDIN_MAX (64L * 1024 * 1024)

enum postmap_mode { MODE_BUILD, MODE_QUERY, MODE_DUMP, MODE_DELETE, MODE_ADD };

static void usage(void)
{
    fprintf(stderr, "usage: postmap [-c config_dir] [-rv] [-q key | -q - | -s | -d key | -i] "
                    "[file_type:]file_name...\n");
    exit(EX_USAGE);
}

static void set_mode(enum postmap_mode *mode, enum postmap_mode m)
{
    if (*mode != MODE_BUILD)
        usage();    /* -q, -s, -d and -i exclude each other */
    *mode = m;
}

/* Read all of standard input into OUT; -1 (logged) on error or overflow. */
static int stdin_slurp(vstr *out)
{
    char buf[8192];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        if (out->len + n > (size_t) POSTMAP_STDIN_MAX) {
            msg_error("standard input: more than %ld bytes", POSTMAP_STDIN_MAX);
            return -1;
        }
        vstr_append(out, buf, n);
    }
    if (ferror(stdin)) {
        msg_error("read error on standard input: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Open every table named on the command line for lookups; a name without
 * "type:" gets default_database_type.  Any table type works here. */
static table **query_tables_open(char **names, int count)
{
    table **tables = xcalloc((size_t) count, sizeof(*tables));
    vstr *spec = vstr_new(128), *err = vstr_new(128);

    for (int i = 0; i < count; i++) {
        const char *colon = strchr(names[i], ':');

        vstr_reset(spec);
        vstr_reset(err);
        if (colon && colon != names[i] && names[i][0] != '/')
            vstr_puts(spec, names[i]);
        else
            vstr_printf(spec, "%s:%s", config_str("default_database_type"), names[i]);
        if ((tables[i] = table_open(vstr_str(spec), 0, err)) == NULL) {
            msg_error("%s", vstr_str(err));
            exit(EX_TEMPFAIL);
        }
    }
    vstr_free(spec);
    vstr_free(err);
    return tables;
}

/* The first table (in command-line order) that has KEY: 1 found, 0 not. */
static int query_one(table **tables, int count, const char *key, vstr *value)
{
    for (int i = 0; i < count; i++) {
        switch (table_lookup(tables[i], key, value)) {
        case 1:
            return 1;
        case -1:
            exit(EX_TEMPFAIL);
        }
    }
    return 0;
}

/* -q - : one key per line on standard input, "key<TAB>value" for each
 * key found.  1 if any key was found. */
static int query_stdin(table **tables, int count, vstr *value)
{
    vstr *text = vstr_new(4096);
    char *line, *next;
    int found = 0;

    if (stdin_slurp(text) < 0)
        exit(EX_IOERR);
    for (line = text->data; line && *line; line = next) {
        size_t len;

        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = 0;
        if (len == 0)
            continue;
        if (query_one(tables, count, line, value)) {
            printf("%s\t%s\n", line, vstr_str(value));
            found = 1;
        }
    }
    vstr_free(text);
    return found;
}

static void dump_print(void *ctx, const char *key, const char *value)
{
    (void) ctx;
    printf("%s %s\n", key, value);
}

int main(int argc, char **argv)
{
    const char *config_arg = NULL, *key = NULL;
    enum postmap_mode mode = MODE_BUILD;
    int replace = 0, ch, status = 0, hit = 0;
    vstr *err, *value, *input = NULL;

    log_init("postmap");
    log_also_stderr(1);
    while ((ch = getopt(argc, argv, "c:d:iq:rsv")) != -1) {
        switch (ch) {
        case 'c':
            config_arg = optarg;
            break;
        case 'd':
            set_mode(&mode, MODE_DELETE);
            key = optarg;
            break;
        case 'i':
            set_mode(&mode, MODE_ADD);
            break;
        case 'q':
            set_mode(&mode, MODE_QUERY);
            key = optarg;
            break;
        case 'r':
            replace = 1;
            break;
        case 's':
            set_mode(&mode, MODE_DUMP);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind >= argc)
        usage();
    err = vstr_new(128);
    value = vstr_new(128);
    config_load_or_exit(config_arg, EX_CONFIG);

    if (mode == MODE_QUERY) {
        int count = argc - optind;
        table **tables = query_tables_open(argv + optind, count);

        if (strcmp(key, "-") == 0)
            hit = query_stdin(tables, count, value);
        else if ((hit = query_one(tables, count, key, value)) != 0)
            printf("%s\n", vstr_str(value));
        for (int i = 0; i < count; i++)
            table_close(tables[i]);
        free(tables);
    } else {
        if (mode == MODE_ADD) {
            input = vstr_new(4096);
            if (stdin_slurp(input) < 0)
                exit(EX_IOERR);
        }
        for (int i = optind; i < argc; i++) {
            char *type, *path;
            int rc;

            vstr_reset(err);
            if (table_spec_split(argv[i], config_str("default_database_type"), &type, &path,
                                 err) < 0) {
                msg_error("%s", vstr_str(err));
                exit(EX_USAGE);
            }
            switch (mode) {
            case MODE_DUMP:
                rc = table_db_dump(type, path, dump_print, NULL, err);
                break;
            case MODE_DELETE:
                if ((rc = table_db_delete(type, path, key, err)) > 0)
                    hit = 1;
                break;
            case MODE_ADD:
                rc = table_db_add_text(type, path, vstr_str(input), "stdin", 0, replace, err);
                break;
            default:
                rc = table_db_build(type, path, 0, err);
                break;
            }
            if (rc < 0) {
                struct stat st;

                msg_error("%s", vstr_str(err));
                /* a missing source file is the caller's mistake, not a
                 * temporary failure */
                if (mode == MODE_BUILD && stat(path, &st) != 0 && errno == ENOENT)
                    status = EX_NOINPUT;
                else if (status == 0)
                    status = EX_TEMPFAIL;
            }
            free(type);
            free(path);
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        msg_error("write error on standard output");
        exit(EX_IOERR);
    }
    if (status == 0 && (mode == MODE_QUERY || mode == MODE_DELETE))
        status = hit ? 0 : 1;
    vstr_free(err);
    vstr_free(value);
    if (input)
        vstr_free(input);
    return status;
}
