/* smtp(8) internals: the settings, the next hop, the message and its
 * recipients, one SMTP/LMTP session, and the modules that work on them:
 * smtp_service.c (request, queue file, results, logging),
 * smtp_nexthop.c (next-hop syntax), smtp_connect.c (DNS, connections,
 * greeting and EHLO), smtp_proto.c (the mail transaction) and
 * smtp_cache.c (connections kept open for the next delivery). */
#ifndef POSTHORN_SMTP_H
#define POSTHORN_SMTP_H
#include <stddef.h>
#include <sys/types.h>
#include "smtp_reply.h"
#include "stream.h"
#include "vstr.h"

/* Per-process settings, read once from main.cf (smtp.c). */
struct smtp_config {
    int lmtp;                   /* LMTP mode: service or program named "lmtp" */
    const char *helo_name;
    const char *myhostname;
    long connect_timeout, helo_timeout, mail_timeout, rcpt_timeout;
    long data_init_timeout, data_xfer_timeout, data_done_timeout;
    long rset_timeout, quit_timeout;
    long mx_address_limit, mx_session_limit;    /* 0: no limit */
    int families;               /* DNS_FAMILY_* from inet_protocols */
    int prefer;                 /* 6, 4 or 0 (any) from smtp_address_preference */
    int skip_5xx_greeting;
    long line_length_limit;     /* 0: no limit */
    long lmtp_port;
    int smtp_port;              /* smtp_tcp_port, resolved before the jail */
    int cache_on_demand;
    long cache_size, cache_time_limit, reuse_time_limit, reuse_count_limit;
};

extern struct smtp_config smtp_cfg;

/* Next hop (smtp_nexthop.c). */
enum smtp_nexthop_kind {
    NEXTHOP_MX,                 /* "domain" or "domain:port": MX lookup */
    NEXTHOP_HOST,               /* "[host]", "[host]:port", LMTP "inet:host:port" */
    NEXTHOP_UNIX,               /* LMTP "unix:/path" */
};

struct smtp_nexthop {
    enum smtp_nexthop_kind kind;
    char *host;                 /* domain, host name, address literal or path */
    int port;                   /* the port to use (default filled in) */
};

/* Parse the nexthop attribute of a delivery request.  SMTP mode:
 * "domain", "domain:port", "[host]", "[host]:port" ("[ipv6:addr]" too);
 * LMTP mode: "unix:/path", "inet:host", "inet:host:port",
 * "inet:[host]:port", "host", "host:port" (never an MX lookup).
 * default_port fills a missing port.  0, or -1 with the reason in why. */
int smtp_nexthop_parse(const char *text, int lmtp, int default_port, struct smtp_nexthop *nh,
                       vstr *why);
void smtp_nexthop_free(struct smtp_nexthop *nh);

/* Recipient outcome. */
enum smtp_rcpt_status {
    RCPT_PENDING = 0,
    RCPT_SENT,
    RCPT_DEFERRED,
    RCPT_BOUNCED,
};

struct smtp_rcpt {
    const char *offset;         /* from the request, echoed in the reply */
    const char *address;
    const char *orcpt;          /* "rfc822;addr" or "" */
    int notify;                 /* DSN_NOTIFY_* mask, 0 = not given */
    enum smtp_rcpt_status status;
    int accepted;               /* 2xx to RCPT TO in the current transaction */
    vstr *dsn;
    vstr *reason;
    vstr *relay;                /* "host[addr]:port" or "none" */
    const char *action;         /* RFC 3464 action once final */
};

/* The message of one delivery request. */
struct smtp_msg {
    const char *queue_id;
    const char *sender;
    int flags;                  /* REC_FLAG_* */
    long long size;             /* content size from the Z record */
    char *envid;                /* DSN ENVID (decoded) or NULL */
    char *ret;                  /* "FULL", "HDRS" or NULL */
    stream *qf;
    off_t content_offset;       /* offset of the M record */
};

/* One SMTP or LMTP session with a server. */
struct smtp_session {
    stream *s;
    char *host;                 /* name for logs ("mx.example") */
    char *addr;                 /* numeric address, or the socket path */
    int port;                   /* 0 for a UNIX socket */
    char *dest;                 /* connection cache key (next hop) */
    struct smtp_ext ext;
    long long opened_ms;        /* monotonic */
    long long idle_since_ms;
    int use_count;              /* transactions completed on it */
    int broken;                 /* I/O failed or data unfinished: no QUIT, no reuse */
    vstr *label;                /* "host[addr]:port" */
};

/* A delivery in progress. */
struct smtp_delivery {
    struct smtp_msg *msg;
    struct smtp_rcpt *rcpts;
    size_t nrcpt;
    int conn_use;               /* >1 when a cached connection carried it */
    int site_failed;            /* no usable session with any host: tells
                                 * qmgr the destination itself failed */
    double setup_secs;          /* DNS, connect, greeting, EHLO */
    double xfer_secs;           /* the transaction */
};

/* Outcome of a session-level step. */
enum smtp_step {
    STEP_OK = 0,
    STEP_NEXT_HOST,             /* soft: try the next host */
    STEP_FINAL,                 /* recipients' outcomes are decided */
};

/* smtp_service.c: set every still pending recipient's outcome. */
void smtp_rcpt_set(struct smtp_rcpt *r, enum smtp_rcpt_status status, const char *dsn,
                   const char *relay, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void smtp_pending_set(struct smtp_delivery *d, enum smtp_rcpt_status status, const char *dsn,
                      const char *relay, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
size_t smtp_pending_count(const struct smtp_delivery *d);
void smtp_service(stream *client, void *ctx);

/* smtp_connect.c: find and open a session for the next hop, run the
 * transaction, leave the session in the cache or close it. */
void smtp_deliver(struct smtp_delivery *d, const struct smtp_nexthop *nh, const char *dest);
long long smtp_now_ms(void);

/* smtp_proto.c: the conversation. */
int smtp_read_reply(struct smtp_session *ss, long timeout, struct smtp_reply *r, vstr *why);
/* Greeting, EHLO/LHLO (HELO fallback), extension parsing: STEP_*; the
 * failure reason goes to every pending recipient (or why, for STEP_NEXT_HOST). */
int smtp_session_start(struct smtp_session *ss, struct smtp_delivery *d, vstr *why,
                       vstr *dsn, int *permanent);
/* MAIL, RCPT, DATA, content, end of data: decides each pending
 * recipient's outcome.  Returns STEP_OK when the session is still in a
 * clean state for reuse, STEP_FINAL when it must be closed. */
int smtp_transaction(struct smtp_session *ss, struct smtp_delivery *d);
/* RSET on a cached session before reuse: 0 ok, -1 unusable. */
int smtp_session_rset(struct smtp_session *ss);
/* QUIT (best effort, unless the session is broken) and free. */
void smtp_session_close(struct smtp_session *ss, int send_quit);
struct smtp_session *smtp_session_new(int fd, const char *host, const char *addr, int port,
                                      const char *dest);

/* smtp_cache.c */
void smtp_cache_init(void);
struct smtp_session *smtp_cache_take(const char *dest);
/* Keep ss for reuse if limits allow, else QUIT and close it. */
void smtp_cache_put(struct smtp_session *ss);
/* Close idle or worn-out sessions (QUIT). */
void smtp_cache_expire(void);
/* Between requests: arm / disarm the idle timer. */
void smtp_cache_idle_arm(void);
void smtp_cache_idle_disarm(void);
void smtp_cache_close_all(void);

#endif
