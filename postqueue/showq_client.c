/* postqueue's reader of the showq stream (showq_proto.h).  Any local user
 * runs postqueue and the stream comes through a socket, so the reader is
 * strict and bounded: an incremental byte-level parser with caps on every
 * name, value, recipient count and message size, accepting only the
 * announcement, message lists in the documented order, and the final
 * empty list. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "../showq/showq_proto.h"
#include "vstr.h"

/* Bytes of names and values of one message list. */
#define SHOWQ_MAX_ENTRY_BYTES (64L * 1024 * 1024)

enum reader_state { RS_ANNOUNCE, RS_MESSAGES, RS_DONE, RS_ERROR };

/* What the next attribute of a message list must be. */
enum expect {
    EX_QUEUE_NAME, EX_QUEUE_ID, EX_TIME, EX_SIZE, EX_EXPIRE_OR_SENDER, EX_RCPT_OR_END,
    EX_REASON,
};

struct showq_reader {
    showq_entry_fn on_entry;
    void *ctx;
    enum reader_state state;
    int in_value;           /* reading a value (else a name) */
    int list_started;       /* an attribute of the current list was read */
    int announced;
    int seen_expire;        /* forced_expire of this message read */
    enum expect expect;
    vstr *name, *value;
    size_t entry_bytes;
    size_t rcpt_cap;
    struct showq_entry e;
};

static void entry_clear(struct showq_entry *e)
{
    free(e->queue_name);
    free(e->queue_id);
    free(e->sender);
    for (size_t i = 0; i < e->nrcpt; i++) {
        free(e->rcpts[i].address);
        free(e->rcpts[i].reason);
    }
    free(e->rcpts);
    memset(e, 0, sizeof(*e));
}

showq_reader *showq_reader_new(showq_entry_fn on_entry, void *ctx)
{
    showq_reader *r = xcalloc(1, sizeof(*r));

    r->on_entry = on_entry;
    r->ctx = ctx;
    r->state = RS_ANNOUNCE;
    r->name = vstr_new(SHOWQ_MAX_NAME + 1);
    r->value = vstr_new(256);
    return r;
}

void showq_reader_free(showq_reader *r)
{
    if (r == NULL)
        return;
    entry_clear(&r->e);
    vstr_free(r->name);
    vstr_free(r->value);
    free(r);
}

int showq_reader_done(const showq_reader *r)
{
    return r->state == RS_DONE;
}

static int fail(showq_reader *r, vstr *err, const char *why)
{
    r->state = RS_ERROR;
    if (err != NULL)
        vstr_set(err, why);
    return -1;
}

static int valid_queue_name(const char *s)
{
    static const char *const names[] = {
        "maildrop", "incoming", "active", "deferred", "hold", NULL,
    };

    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

static int valid_queue_id(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= 'a' && s[i] <= 'z')))
            return 0;
    return 1;
}

/* A decimal number without sign or junk, at most max. */
static int parse_number(const char *s, size_t len, long long max, long long *out)
{
    long long v = 0;

    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int add_rcpt(showq_reader *r, const char *address, vstr *err)
{
    struct showq_entry *e = &r->e;

    if (e->nrcpt >= SHOWQ_MAX_RCPTS)
        return fail(r, err, "too many recipients in one message");
    if (e->nrcpt == r->rcpt_cap) {
        r->rcpt_cap = r->rcpt_cap ? r->rcpt_cap * 2 : 4;
        e->rcpts = xreallocarray(e->rcpts, r->rcpt_cap, sizeof(*e->rcpts));
    }
    e->rcpts[e->nrcpt].address = xstrdup(address);
    e->rcpts[e->nrcpt].reason = NULL;
    e->nrcpt++;
    return 0;
}

/* One complete NAME=VALUE of a message list. */
static int message_attr(showq_reader *r, const char *name, const char *value, size_t vlen,
                        vstr *err)
{
    struct showq_entry *e = &r->e;
    long long num;

    switch (r->expect) {
    case EX_QUEUE_NAME:
        if (strcmp(name, "queue_name") != 0 || !valid_queue_name(value))
            return fail(r, err, "bad or missing queue_name");
        e->queue_name = xstrdup(value);
        r->expect = EX_QUEUE_ID;
        return 0;
    case EX_QUEUE_ID:
        if (strcmp(name, "queue_id") != 0 || !valid_queue_id(value, vlen))
            return fail(r, err, "bad or missing queue_id");
        e->queue_id = xstrdup(value);
        r->expect = EX_TIME;
        return 0;
    case EX_TIME:
        if (strcmp(name, "time") != 0 || parse_number(value, vlen, 1LL << 40, &num) != 0)
            return fail(r, err, "bad or missing time");
        e->arrival = num;
        r->expect = EX_SIZE;
        return 0;
    case EX_SIZE:
        if (strcmp(name, "size") != 0 || parse_number(value, vlen, 1LL << 50, &num) != 0)
            return fail(r, err, "bad or missing size");
        e->size = num;
        r->expect = EX_EXPIRE_OR_SENDER;
        return 0;
    case EX_EXPIRE_OR_SENDER:
        /* forced_expire is optional: older servers lack it. */
        if (strcmp(name, "forced_expire") == 0 && !r->seen_expire) {
            if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
                return fail(r, err, "bad forced_expire");
            e->forced_expire = (value[0] == '1');
            r->seen_expire = 1;
            return 0;
        }
        if (strcmp(name, "sender") != 0)
            return fail(r, err, "bad or missing sender");
        e->sender = xstrdup(value);
        r->expect = EX_RCPT_OR_END;
        return 0;
    case EX_RCPT_OR_END:
        if (strcmp(name, "recipient") != 0)
            return fail(r, err, "unexpected attribute in a message");
        if (add_rcpt(r, value, err) != 0)
            return -1;
        r->expect = EX_REASON;
        return 0;
    case EX_REASON:
        if (strcmp(name, "reason") != 0)
            return fail(r, err, "recipient without reason");
        e->rcpts[e->nrcpt - 1].reason = xstrdup(value);
        r->expect = EX_RCPT_OR_END;
        return 0;
    }
    return fail(r, err, "internal state");
}

static int attr_complete(showq_reader *r, vstr *err)
{
    const char *name = vstr_str(r->name), *value = vstr_str(r->value);

    r->list_started = 1;
    if (r->state == RS_ANNOUNCE) {
        if (r->announced || strcmp(name, "protocol") != 0 || strcmp(value, SHOWQ_PROTOCOL) != 0)
            return fail(r, err, "not a mail_queue_list_protocol server");
        r->announced = 1;
        return 0;
    }
    return message_attr(r, name, value, vstr_len(r->value), err);
}

/* The empty name that ends a list. */
static int list_complete(showq_reader *r, vstr *err)
{
    if (r->state == RS_ANNOUNCE) {
        if (!r->announced)
            return fail(r, err, "missing protocol announcement");
        r->state = RS_MESSAGES;
        r->list_started = 0;
        return 0;
    }
    if (!r->list_started) {
        r->state = RS_DONE;         /* the empty list */
        return 1;
    }
    if (r->expect != EX_RCPT_OR_END)
        return fail(r, err, "incomplete message entry");
    r->on_entry(&r->e, r->ctx);
    entry_clear(&r->e);
    r->rcpt_cap = 0;
    r->entry_bytes = 0;
    r->list_started = 0;
    r->seen_expire = 0;
    r->expect = EX_QUEUE_NAME;
    return 0;
}

int showq_reader_feed(showq_reader *r, const void *buf, size_t len, vstr *err)
{
    const char *p = buf, *end = p + len, *nul;
    size_t take, limit;
    int status;

    if (r->state == RS_ERROR)
        return -1;
    while (p < end) {
        if (r->state == RS_DONE)
            return fail(r, err, "data after the end of the listing");
        nul = memchr(p, '\0', (size_t)(end - p));
        take = (nul != NULL ? (size_t)(nul - p) : (size_t)(end - p));
        limit = r->in_value ? SHOWQ_MAX_VALUE : SHOWQ_MAX_NAME;
        if (take > limit - vstr_len(r->in_value ? r->value : r->name))
            return fail(r, err, r->in_value ? "value too long" : "name too long");
        r->entry_bytes += take;
        if (r->entry_bytes > SHOWQ_MAX_ENTRY_BYTES)
            return fail(r, err, "message entry too large");
        vstr_append(r->in_value ? r->value : r->name, p, take);
        p += take;
        if (nul == NULL)
            break;
        p++;                        /* the NUL */
        if (!r->in_value) {
            if (vstr_len(r->name) == 0) {
                if ((status = list_complete(r, err)) != 0) {
                    if (status < 0)
                        return -1;
                    if (p < end)
                        return fail(r, err, "data after the end of the listing");
                    return 1;
                }
            } else {
                r->in_value = 1;
            }
        } else {
            if (attr_complete(r, err) != 0)
                return -1;
            vstr_reset(r->name);
            vstr_reset(r->value);
            r->in_value = 0;
        }
    }
    return r->state == RS_DONE ? 1 : 0;
}
