/* sendmail(1), mailq(1), newaliases(1): the Sendmail-compatible local
 * submission command.  main() parses the command line and dispatches;
 * the message path is sm_deliver(): read stdin into submission records
 * and hand them to postdrop, exiting 0 only once postdrop has the
 * message on disk. */
#include "config.h"
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "mail_addr.h"
#include "params.h"
#include "record.h"
#include "sendmail.h"
#include "stream.h"
#include "table.h"
#include "vstr.h"

/* The real user's login and full name. */
static void caller_identity(vstr *login, vstr *gecos_name)
{
    struct passwd *pw = getpwuid(getuid());

    if (pw == NULL)
        sm_fatal(EX_NOUSER, "no login name found for user ID %lu", (unsigned long)getuid());
    vstr_set(login, pw->pw_name);
    sm_gecos_name(gecos_name, pw->pw_gecos ? pw->pw_gecos : "", pw->pw_name);
}

static void check_authorized(const char *login)
{
    int ok = sm_user_authorized(config_str("authorized_submit_users"), login);

    if (ok < 0)
        sm_fatal(EX_CONFIG, "cannot read authorized_submit_users");
    if (ok == 0)
        sm_fatal(EX_NOPERM, "User %s(%lu) is not allowed to submit mail", login,
                 (unsigned long)getuid());
}

/* Keep a full name to printable text of bounded length; text that is
 * not UTF-8 (an old Latin-1 GECOS field) loses its 8-bit bytes, since
 * envelope text must be UTF-8. */
static void clean_full_name(vstr *out, const char *name)
{
    int utf8 = utf8_valid(name, strlen(name));

    vstr_reset(out);
    for (const char *p = name; *p && vstr_len(out) < SM_FULLNAME_MAX; p++) {
        if (!utf8 && (*p & 0x80))
            continue;
        vstr_putc(out, ((unsigned char)*p < 32 || *p == 127) ? ' ' : *p);
    }
    /* Do not cut a UTF-8 sequence in half. */
    while (vstr_len(out) > 0 && !utf8_valid(vstr_str(out), vstr_len(out)))
        vstr_truncate(out, vstr_len(out) - 1);
}

static int sm_deliver(struct sm_opts *o)
{
    vstr *login = vstr_new(32), *gecos = vstr_new(64), *sender = vstr_new(64);
    vstr *full = vstr_new(64), *err = vstr_new(128), *recs = vstr_new(4096);
    argv_t *rcpts = argv_new();
    struct sm_message *msg = sm_message_new();
    stream *in;
    int status;

    caller_identity(login, gecos);
    check_authorized(vstr_str(login));
    if (o->sender == NULL)
        vstr_set(sender, vstr_str(login));
    else if (sm_sender_parse(o->sender, sender, err) < 0)
        sm_fatal(EX_USAGE, "%s", vstr_str(err));
    clean_full_name(full, o->full_name != NULL ? o->full_name : vstr_str(gecos));
    for (size_t i = 0; i < o->rcpt_args->n; i++)
        if (sm_rcpt_split(o->rcpt_args->v[i], rcpts, err) < 0)
            sm_fatal(EX_USAGE, "%s", vstr_str(err));
    if (rcpts->n == 0 && !o->extract)
        sm_fatal(EX_USAGE, "Recipient addresses must be specified on the command line or via "
                           "the -t option");
    sm_verbose(o, "sender <%s>, %zu command-line recipient(s)%s", vstr_str(sender), rcpts->n,
               o->extract ? ", recipients from the header (-t)" : "");

    in = stream_fdopen(0);
    status = sm_read_message(in, o->ignore_dots, config_size("message_size_limit"), msg, err);
    stream_free(in);
    if (status != 0)
        sm_fatal(status, "%s", vstr_str(err));
    if (o->extract && rcpts->n == 0 && sm_message_header_rcpts(msg) == 0)
        sm_fatal(EX_DATAERR, "No recipient addresses found in message header");

    sm_envelope(recs, o->extract ? REC_FLAG_EXTRACT : 0, vstr_str(sender), vstr_str(full),
                vstr_str(o->envid), o->ret, o->notify, rcpts);
    vstr_append(recs, vstr_str(msg->recs), vstr_len(msg->recs));
    rec_append(recs, REC_XTRA, "", 0);
    rec_append(recs, REC_END, "", 0);
    sm_verbose(o, "message: %ld lines, %ld bytes", msg->lines, msg->size);
    status = sm_postdrop(o, recs);

    sm_message_free(msg);
    argv_free(rcpts);
    vstr_free(login);
    vstr_free(gecos);
    vstr_free(sender);
    vstr_free(full);
    vstr_free(err);
    vstr_free(recs);
    return status;
}

static void sm_newaliases(struct sm_opts *o)
{
    vstr *err = vstr_new(64);
    argv_t *specs = table_split(config_str("alias_database"), err);

    if (specs == NULL)
        sm_fatal(EX_CONFIG, "alias_database: %s", vstr_str(err));
    if (specs->n == 0)
        sm_fatal(EX_CONFIG, "alias_database is empty: no alias table to rebuild");
    sm_exec_command(o, "postalias", (const char *const *)specs->v);
}

static int sm_smtp_mode(struct sm_opts *o)
{
    vstr *login = vstr_new(32), *gecos = vstr_new(64), *full = vstr_new(64);
    stream *in = stream_fdopen(0), *out = stream_fdopen(1);
    int status;

    caller_identity(login, gecos);
    check_authorized(vstr_str(login));
    clean_full_name(full, o->full_name != NULL ? o->full_name : vstr_str(gecos));
    status = sm_smtp_session(o, in, out, vstr_str(login), vstr_str(full));
    vstr_free(full);
    stream_flush(out);
    stream_free(in);
    stream_free(out);
    vstr_free(login);
    vstr_free(gecos);
    return status;
}

static int sm_verify_mode(struct sm_opts *o)
{
    vstr *err = vstr_new(64);
    argv_t *rcpts = argv_new();
    stream *out = stream_fdopen(1);
    int status;

    for (size_t i = 0; i < o->rcpt_args->n; i++)
        if (sm_rcpt_split(o->rcpt_args->v[i], rcpts, err) < 0)
            sm_fatal(EX_USAGE, "%s", vstr_str(err));
    if (rcpts->n == 0)
        sm_fatal(EX_USAGE, "-bv: no addresses to verify");
    status = sm_verify(o, rcpts, out);
    stream_flush(out);
    stream_free(out);
    argv_free(rcpts);
    vstr_free(err);
    return status;
}

int main(int argc, char **argv)
{
    struct sm_opts o;
    vstr *err = vstr_new(128);
    int status = 0;

    log_init("sendmail");
    sm_opts_init(&o);
    if (sm_parse_args(&o, argc, argv, err) < 0)
        sm_fatal(EX_USAGE, "%s", vstr_str(err));
    msg_verbose = o.verbose > 1;
    config_load_or_exit(o.config_dir, EX_CONFIG);

    switch (o.mode) {
    case SM_MODE_MAILQ: {
        const char *args[] = {"-p", NULL};

        sm_exec_command(&o, "postqueue", args);
        break;
    }
    case SM_MODE_NEWALIASES:
        sm_newaliases(&o);
        break;
    case SM_MODE_FLUSH: {
        const char *args[3] = {"-f", NULL, NULL};

        if (o.flush_site != NULL) {
            args[0] = "-s";
            args[1] = o.flush_site;
        } else if (o.flush_id != NULL) {
            args[0] = "-i";
            args[1] = o.flush_id;
        }
        sm_exec_command(&o, "postqueue", args);
        break;
    }
    case SM_MODE_VERIFY:
        status = sm_verify_mode(&o);
        break;
    case SM_MODE_SMTP:
        status = sm_smtp_mode(&o);
        break;
    case SM_MODE_DELIVER:
        status = sm_deliver(&o);
        break;
    }
    sm_opts_free(&o);
    vstr_free(err);
    return status;
}
