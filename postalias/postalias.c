/* postalias: build Berkeley DB alias tables from aliases(5) text files
 * (FILE -> FILE.db, replaced atomically), query them (-q) and dump them
 * (-s).  With no file arguments it works on $alias_database.  The table
 * code lives in lib/table.c; this file is only the command line. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "mem.h"
#include "params.h"
#include "table.h"
#include "vstr.h"

static void usage(void)
{
    fprintf(stderr, "usage: postalias [-c config_dir] [-q key] [-s] [file_type:]file_name...\n");
    exit(EX_USAGE);
}

static void dump_print(void *ctx, const char *key, const char *value)
{
    (void) ctx;
    printf("%s: %s\n", key, value);
}

int main(int argc, char **argv)
{
    const char *config_arg = NULL, *query = NULL;
    int dump = 0, ch, status = 0, found = 0;
    argv_t *specs;
    vstr *err, *value;

    log_init("postalias");
    log_also_stderr(1);
    while ((ch = getopt(argc, argv, "c:q:sv")) != -1) {
        switch (ch) {
        case 'c':
            config_arg = optarg;
            break;
        case 'q':
            query = optarg;
            break;
        case 's':
            dump = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    if (query && dump)
        usage();
    err = vstr_new(128);
    value = vstr_new(128);
    config_load_or_exit(config_arg, EX_CONFIG);
    if (optind < argc) {
        specs = argv_new();
        for (int i = optind; i < argc; i++)
            argv_add(specs, argv[i]);
    } else {
        specs = table_split(config_str("alias_database"), err);
        if (specs == NULL) {
            msg_error("main.cf: parameter alias_database: %s", vstr_str(err));
            exit(EX_CONFIG);
        }
        if (specs->n == 0) {
            msg_error("no alias database: alias_database is empty and no file was given");
            exit(EX_USAGE);
        }
    }
    for (size_t i = 0; i < specs->n && !found; i++) {
        char *type = NULL, *path = NULL;

        vstr_reset(err);
        if (table_spec_split(specs->v[i], config_str("default_database_type"), &type, &path,
                             err) < 0) {
            msg_error("%s", vstr_str(err));
            exit(EX_USAGE);
        }
        if (query) {
            vstr *tspec = vstr_new(128);
            table *t;
            vstr_printf(tspec, "%s:%s", type, path);
            t = table_open(vstr_str(tspec), TABLE_ALIASES, err);
            vstr_free(tspec);
            if (t == NULL) {
                msg_error("%s", vstr_str(err));
                exit(EX_TEMPFAIL);
            }
            switch (table_lookup(t, query, value)) {
            case 1:
                printf("%s\n", vstr_str(value));
                found = 1;
                break;
            case -1:
                exit(EX_TEMPFAIL);
            }
            table_close(t);
        } else if (dump) {
            if (table_db_dump(type, path, dump_print, NULL, err) < 0) {
                msg_error("%s", vstr_str(err));
                exit(EX_TEMPFAIL);
            }
        } else if (table_db_build(type, path, TABLE_ALIASES, err) < 0) {
            msg_error("%s", vstr_str(err));
            status = EX_TEMPFAIL;
        }
        free(type);
        free(path);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        msg_error("write error on standard output");
        exit(EX_IOERR);
    }
    if (query)
        exit(found ? 0 : 1);
    argv_free(specs);
    vstr_free(err);
    vstr_free(value);
    return status;
}
