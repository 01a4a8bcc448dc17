/* The parameter table and main.cf.  Every parameter is declared once, in
 * params_table.c (name, type, default, range, documentation); that table
 * drives main.cf parsing and validation, $name expansion, postconf -d/-n
 * and the generated posthorn.conf(5) reference page. */
#ifndef POSTHORN_PARAMS_H
#define POSTHORN_PARAMS_H
#include "vstr.h"

enum param_type {
    PARAM_STR,      /* free text, $name expanded */
    PARAM_INT,      /* decimal integer in [min, max] */
    PARAM_BOOL,     /* yes / no */
    PARAM_TIME,     /* number with unit s m h d w (default unit: s); value in seconds */
    PARAM_SIZE,     /* bytes, decimal */
    PARAM_LIST,     /* comma/space separated list, $name expanded */
};

struct param_def {
    const char *name;
    enum param_type type;
    const char *def;        /* default (may refer to other parameters as $name);
                             * NULL: computed at run time (myhostname, mydomain) */
    long min, max;          /* INT/TIME/SIZE range, inclusive; min == max == 0: none */
    const char *doc;        /* one paragraph for postconf(5) */
};

extern const struct param_def param_table[];
extern const unsigned param_table_size;
const struct param_def *param_find(const char *name);

/* Where the configuration lives: "-c DIR" wins, then $POSTHORN_CONFIG_DIR,
 * then the compiled-in default.  config_dir_choose(NULL) = env or default. */
const char *config_dir_choose(const char *cmdline_dir);
const char *config_dir(void);

/* Read DIR/main.cf.  Syntax errors are reported in err (file:line: text)
 * and make it return -1; unknown parameter names are kept (user-defined
 * $names are legal) and listed by config_unknown_names().  A missing
 * main.cf is an error. */
int config_load(const char *dir, vstr *err);
/* For command-line tools: config_load(config_dir_choose(cmdline_dir)),
 * and on failure log the problem and exit with exit_status. */
void config_load_or_exit(const char *cmdline_dir, int exit_status);
/* The same for set-group-id commands (config_trust.c): when the caller is
 * not root, a directory other than the compiled-in one is accepted only
 * if root owns it and its main.cf and nobody else can write them, or the
 * default main.cf lists it in alternate_config_directories. */
void config_load_setid_or_exit(const char *cmdline_dir, int exit_status);
/* The same from a string (unit tests, fuzzing); label names it in errors.
 * Replaces the main.cf values loaded before; overrides are kept. */
int config_load_text(const char *text, const char *label, vstr *err);
/* "-o name=value" style override; value NULL removes an override. */
void config_set(const char *name, const char *value);
/* Raw value: the override, main.cf, or the table default; NULL if the name
 * is neither in the table nor set anywhere. */
const char *config_raw(const char *name);
int config_is_set(const char *name);       /* set in main.cf or overridden */
/* Expanded values.  Using a name that is not in the table is a bug
 * (panic); an invalid value is fatal with a message naming main.cf. */
const char *config_str(const char *name);
long config_int(const char *name);
int config_bool(const char *name);
long config_time(const char *name);        /* seconds */
long config_size(const char *name);
/* Expand $name, ${name}, $(name), ${name?text}, ${name:text} in text;
 * returns -1 (and text in err) on a syntax error or runaway recursion. */
int config_expand(vstr *out, const char *text, vstr *err);
/* Check every parameter that is set against its type and range; each
 * problem is appended to problems as one line; returns the count. */
int config_validate(vstr *problems);
/* Names set in main.cf that are not in the table, space separated. */
const char *config_unknown_names(void);
/* Iterate names set in main.cf, in file order (for postconf -n). */
const char *config_set_name(unsigned i);

/* Parse a time value ("300s", "5m", "2h", "1d", "1w", or plain seconds);
 * -1 if malformed. */
long param_parse_time(const char *s);

#endif
