/* mkparamdoc: build-time generator of posthorn.conf(5).  It walks
 * param_table[] (lib/params_table.c), the one place parameters are
 * declared, and prints a man(7) page with every parameter's name,
 * default, type and range, and documentation, so the reference can never
 * fall behind the code.  Every string from the table is escaped for roff
 * on the way out. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "params.h"
#include "vstr.h"

/* Append text to out so that troff prints it literally: backslashes and
 * hyphens escaped, a control character ('.' or '\'') at the start of an
 * output line neutralized with \&, and non-ASCII UTF-8 as \[uXXXX] so the
 * page does not depend on the input encoding groff assumes.  at_line_start
 * says whether out currently ends a line. */
static void roff_escape(vstr *out, const char *text, int at_line_start)
{
    const unsigned char *p = (const unsigned char *) text;

    while (*p) {
        unsigned c = *p;

        if (at_line_start && (c == '.' || c == '\''))
            vstr_puts(out, "\\&");
        at_line_start = 0;
        if (c == '\\') {
            vstr_puts(out, "\\e");
            p++;
        } else if (c == '-') {
            vstr_puts(out, "\\-");
            p++;
        } else if (c == '\n') {
            /* A new output line: its first character needs the check. */
            vstr_putc(out, '\n');
            at_line_start = 1;
            p++;
            while (*p == ' ' || *p == '\t')
                p++;        /* leading space would force a break */
        } else if (c < 0x80) {
            vstr_putc(out, (int) c);
            p++;
        } else {
            /* Decode one UTF-8 sequence; a malformed byte becomes U+FFFD. */
            uint32_t cp;
            int more, i;

            if ((c & 0xe0) == 0xc0) {
                cp = c & 0x1f;
                more = 1;
            } else if ((c & 0xf0) == 0xe0) {
                cp = c & 0x0f;
                more = 2;
            } else if ((c & 0xf8) == 0xf0) {
                cp = c & 0x07;
                more = 3;
            } else {
                cp = 0xfffd;
                more = 0;
            }
            p++;
            for (i = 0; i < more; i++) {
                if ((*p & 0xc0) != 0x80) {
                    cp = 0xfffd;
                    break;
                }
                cp = (cp << 6) | (*p & 0x3f);
                p++;
            }
            vstr_printf(out, "\\[u%04X]", (unsigned) cp);
        }
    }
}

/* A number of seconds in the largest unit that divides it evenly, as
 * main.cf accepts it ("5d", "300s"). */
static void time_text(vstr *out, long seconds)
{
    static const struct {
        long size;
        char unit;
    } units[] = {{7 * 86400L, 'w'}, {86400L, 'd'}, {3600L, 'h'}, {60L, 'm'}};
    size_t i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (seconds != 0 && seconds % units[i].size == 0) {
            vstr_printf(out, "%ld%c", seconds / units[i].size, units[i].unit);
            return;
        }
    }
    vstr_printf(out, "%lds", seconds);
}

/* "integer, 1 to 1000" and the like: what a value must look like. */
static void type_text(vstr *out, const struct param_def *d)
{
    int ranged = !(d->min == 0 && d->max == 0);

    switch (d->type) {
    case PARAM_STR:
        vstr_puts(out, "text");
        break;
    case PARAM_LIST:
        vstr_puts(out, "list (items separated by commas or white space)");
        break;
    case PARAM_BOOL:
        vstr_puts(out, "yes or no");
        break;
    case PARAM_INT:
        vstr_puts(out, "integer");
        if (ranged)
            vstr_printf(out, ", %ld to %ld", d->min, d->max);
        break;
    case PARAM_TIME:
        vstr_puts(out, "time (unit s, m, h, d or w; no unit: seconds)");
        if (ranged) {
            vstr_puts(out, ", ");
            time_text(out, d->min);
            vstr_puts(out, " to ");
            time_text(out, d->max);
        }
        break;
    case PARAM_SIZE:
        vstr_puts(out, "size in bytes");
        if (ranged)
            vstr_printf(out, ", %ld to %ld", d->min, d->max);
        break;
    default:
        vstr_puts(out, "unknown type");
        break;
    }
}

static int def_by_name(const void *a, const void *b)
{
    const struct param_def *const *x = a;
    const struct param_def *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/* The fixed text before the parameter list. */
static const char page_head[] =
    ".SH NAME\n"
    "posthorn.conf \\- posthorn main.cf configuration parameters\n"
    ".SH SYNOPSIS\n"
    ".I config_directory\\fB/main.cf\\fR\n"
    ".SH DESCRIPTION\n"
    "The file\n"
    ".B main.cf\n"
    "in the configuration directory holds the parameters that every posthorn\n"
    "program reads when it starts.\n"
    "The configuration directory is the one given with\n"
    ".BR \\-c ,\n"
    "else the one in the environment variable\n"
    ".BR POSTHORN_CONFIG_DIR ,\n"
    "else the directory compiled in (the default of\n"
    ".B config_directory\n"
    "below).\n"
    "This page is generated from the parameter table in the source code,\n"
    "so it lists every parameter posthorn knows, with its real default.\n"
    ".SS Syntax\n"
    "Each parameter is set on a line of its own as\n"
    ".IP\n"
    ".I name\n"
    "=\n"
    ".I value\n"
    ".PP\n"
    "White space around the\n"
    ".B =\n"
    "and at the end of the value is ignored.\n"
    "A line that starts with white space continues the line before it.\n"
    "Empty lines, and lines whose first non\\-blank character is\n"
    ".BR # ,\n"
    "are ignored; a\n"
    ".B #\n"
    "later in a line is part of the value.\n"
    "A parameter set twice gets the later value, with a warning.\n"
    "A name that is not in the list below is accepted and may be used in\n"
    ".B $\\fIname\\fR\n"
    "expansions;\n"
    ".B posthorn check\n"
    "lists such names, since they are often misspellings.\n"
    ".SS Expansion\n"
    "Values are stored as written and expanded when a program uses them:\n"
    ".TP\n"
    "\\fB$\\fIname\\fR, \\fB${\\fIname\\fB}\\fR, \\fB$(\\fIname\\fB)\\fR\n"
    "The value of the parameter\n"
    ".IR name ;\n"
    "nothing when it has none.\n"
    ".TP\n"
    ".BI ${ name ? text }\n"
    ".I text\n"
    "when\n"
    ".I name\n"
    "has a non\\-empty value, else nothing.\n"
    ".TP\n"
    ".BI ${ name : text }\n"
    ".I text\n"
    "when\n"
    ".I name\n"
    "is empty, else nothing.\n"
    ".TP\n"
    ".B $$\n"
    "A literal dollar sign.\n"
    ".PP\n"
    "Expansion is recursive, with a limit on depth and length.\n"
    ".SS Value types\n"
    ".TP\n"
    ".B text\n"
    "Any string, expanded.\n"
    ".TP\n"
    ".B list\n"
    "Items separated by commas or white space, expanded.\n"
    "Where a list names lookup tables, a table is written as\n"
    ".IR type : name\n"
    "(for example\n"
    ".BR hash:/etc/aliases ).\n"
    ".TP\n"
    ".B yes or no\n"
    "A boolean.\n"
    ".TP\n"
    ".B integer\n"
    "A decimal number within the range shown.\n"
    ".TP\n"
    ".B time\n"
    "A number with an optional unit:\n"
    ".B s\n"
    "(seconds, the default),\n"
    ".B m\n"
    "(minutes),\n"
    ".B h\n"
    "(hours),\n"
    ".B d\n"
    "(days) or\n"
    ".B w\n"
    "(weeks).\n"
    ".TP\n"
    ".B size\n"
    "A decimal number of bytes.\n"
    ".PP\n"
    "A service in\n"
    ".BR master.cf (5)\n"
    "can override any parameter for itself with\n"
    ".B \\-o\n"
    ".IR name = value .\n"
    ".SH SECURITY\n"
    ".B main.cf\n"
    "is trusted input: the master runs as root and every daemon reads the\n"
    "file before it drops privileges.\n"
    "The file and the directories above it must be writable by root\n"
    "only.\n"
    "Parameters name programs' directories, the accounts daemons run as\n"
    "(\\fBmail_owner\\fR, \\fBdefault_privs\\fR) and files written by\n"
    "local delivery; whoever can change them controls the mail system.\n"
    ".SH DIAGNOSTICS\n"
    "A line without\n"
    ".B =\n"
    "or with a bad parameter name is a syntax error, reported as\n"
    ".IR file : line : \\ text ;\n"
    "the program that reads it does not start.\n"
    "A value of the wrong type or out of range is reported when a program\n"
    "uses the parameter, as a fatal error naming the parameter;\n"
    ".B posthorn check\n"
    "reports every such problem at once, without starting anything.\n"
    "A change takes effect after\n"
    ".BR \"posthorn reload\" .\n"
    ".SH CONFIGURATION PARAMETERS\n"
    "Parameters in alphabetical order.\n"
    "A default that refers to other parameters (\\fB$myhostname\\fR) is\n"
    "shown as written and expanded when used.\n";

static const char page_tail[] =
    ".SH SEE ALSO\n"
    ".BR posthorn (1),\n"
    ".BR postalias (1),\n"
    ".BR aliases (5),\n"
    ".BR master.cf (5),\n"
    ".BR cleanup (8),\n"
    ".BR local (8),\n"
    ".BR master (8),\n"
    ".BR qmgr (8),\n"
    ".BR smtpd (8)\n";

int main(void)
{
    const struct param_def **defs;
    vstr *out = vstr_new(64 * 1024);
    vstr *tmp = vstr_new(256);
    unsigned i;

    defs = xreallocarray(NULL, param_table_size ? param_table_size : 1, sizeof(*defs));
    for (i = 0; i < param_table_size; i++)
        defs[i] = &param_table[i];
    qsort(defs, param_table_size, sizeof(*defs), def_by_name);

    vstr_puts(out, ".\\\" Generated by man/mkparamdoc from lib/params_table.c; do not edit.\n");
    vstr_puts(out, ".TH POSTHORN.CONF 5 \"\" \"posthorn ");
    roff_escape(out, PACKAGE_VERSION, 0);
    vstr_puts(out, "\" \"File Formats\"\n.nh\n.nr HY 0\n.ad l\n");
    vstr_puts(out, page_head);

    for (i = 0; i < param_table_size; i++) {
        const struct param_def *d = defs[i];

        vstr_puts(out, ".TP\n.B ");
        roff_escape(out, d->name, 0);
        vstr_puts(out, "\nDefault: ");
        if (d->def == NULL) {
            vstr_puts(out, "computed at run time");
        } else if (*d->def == '\0') {
            vstr_puts(out, "empty");
        } else {
            vstr_puts(out, "\\fB");
            roff_escape(out, d->def, 0);
            vstr_puts(out, "\\fR");
        }
        vstr_puts(out, "\n.br\nType: ");
        vstr_reset(tmp);
        type_text(tmp, d);
        roff_escape(out, vstr_str(tmp), 0);
        vstr_puts(out, "\n.br\n");
        roff_escape(out, d->doc && *d->doc ? d->doc : "(Not documented yet.)", 1);
        vstr_putc(out, '\n');
    }
    vstr_puts(out, page_tail);

    if (fwrite(vstr_str(out), 1, vstr_len(out), stdout) != vstr_len(out)
        || fflush(stdout) != 0) {
        perror("mkparamdoc: write");
        return 1;
    }
    free(defs);
    vstr_free(out);
    vstr_free(tmp);
    return 0;
}
