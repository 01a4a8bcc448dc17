/* local(8) address resolution, as Postfix's local(8) documents it: a
 * recipient already named in a Delivered-To: header of the message is a
 * mail loop (bounce 5.4.6); then the alias tables (with the address
 * extension, then without), then the system user's .forward file (the
 * first of forward_path), then the user's mailbox (home_mailbox or
 * mail_spool_directory), then luser_relay, else bounce as unknown user.
 *
 * Alias values, .forward and :include: files list destinations: local
 * addresses (resolved here again, recursively, depth-limited), remote
 * addresses (collected and forwarded through cleanup once the expansion
 * is done), |commands, /files, directories/ (Maildir), :include:/files
 * and "\user" (that mailbox, no further aliasing or forwarding).
 * Commands and files are allowed per source (allow_mail_to_commands,
 * allow_mail_to_files) and run as: the owner of the alias table, of the
 * .forward (the user), or of the :include: file; default_privs instead
 * of root or mail_owner.  An address being expanded that comes back
 * delivers to its mailbox; a destination reached twice in one expansion
 * is delivered once. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "argv.h"
#include "local.h"
#include "local_parse.h"
#include "local_util.h"
#include "log.h"
#include "mail_addr.h"
#include "match_list.h"
#include "mem.h"
#include "params.h"
#include "table.h"
#include "vstr.h"

#define RESOLVE_SKIP_ALIAS 1
#define RESOLVE_SKIP_FORWARD 2

/* One alias table and who owns its file. */
struct alias_table {
    table *t;
    int owner_known;
    uid_t uid;
    gid_t gid;
};

static struct alias_table *alias_tables;
static size_t alias_table_count;
static int alias_tables_broken;
static match_list *local_domains;

/* The owner of the file behind a table spec (texthash:/f, hash:/f.db). */
static void alias_table_owner(struct alias_table *at, const char *spec)
{
    const char *colon = strchr(spec, ':');
    vstr *path = vstr_new(64);
    struct stat st;

    at->owner_known = 0;
    if (colon != NULL && colon[1] == '/') {
        vstr_set(path, colon + 1);
        if (strncmp(spec, "hash:", 5) == 0 || strncmp(spec, "btree:", 6) == 0)
            vstr_puts(path, ".db");
        if (stat(vstr_str(path), &st) == 0) {
            at->owner_known = 1;
            at->uid = st.st_uid;
            at->gid = st.st_gid;
        }
    }
    vstr_free(path);
}

void local_resolve_init(void)
{
    vstr *err = vstr_new(64);
    const char *maps = config_str("alias_maps");
    argv_t *specs;
    size_t i;

    specs = table_split(maps, err);
    if (specs == NULL) {
        msg_warn("alias_maps: %s", vstr_str(err));
        alias_tables_broken = 1;
    } else {
        alias_tables = xcalloc(specs->n + 1, sizeof(*alias_tables));
        for (i = 0; i < specs->n; i++) {
            vstr_reset(err);
            alias_tables[i].t = table_open(specs->v[i], TABLE_ALIASES, err);
            if (alias_tables[i].t == NULL) {
                /* Defer alias deliveries rather than bounce them. */
                msg_warn("alias_maps: %s", vstr_str(err));
                alias_tables_broken = 1;
                break;
            }
            alias_table_owner(&alias_tables[i], specs->v[i]);
            alias_table_count++;
        }
        argv_free(specs);
    }
    vstr_reset(err);
    local_domains = match_list_domain(config_str("mydestination"), 0, err);
    if (local_domains == NULL)
        msg_fatal("mydestination: %s", vstr_str(err));
    vstr_free(err);
}

/* Remote addresses to forward, grouped by the Delivered-To: they get. */
struct forward_group {
    char *delivered_to;
    argv_t *rcpts;
};

struct resolve_state {
    const struct local_config *cfg;
    struct local_message *msg;
    struct local_result *r;
    argv_t *chain;          /* addresses being expanded, for self-reference */
    argv_t *includes;       /* :include: files being read, for loops */
    argv_t *seen;           /* destinations done in this expansion */
    vstr *delivered_to;
    struct forward_group *fwd;
    size_t nfwd;
};

/* What a list of destinations is expanded for. */
struct expand_ctx {
    int source;             /* SOURCE_* of local_parse.h */
    const char *owner;      /* the address being expanded: user@domain */
    const char *domain;     /* for unqualified addresses */
    const char *local;      /* local part, user, extension of owner */
    const char *extension;
    struct local_runas runas;
};

static void resolve(struct resolve_state *rs, const char *address, int depth, int flags);
static void expand_list(struct resolve_state *rs, const struct expand_ctx *ctx,
                        const argv_t *targets, int depth);

static int in_list(const argv_t *list, const char *s)
{
    size_t i;

    for (i = 0; i < list->n; i++)
        if (strcasecmp(list->v[i], s) == 0)
            return 1;
    return 0;
}

static void list_pop(argv_t *list)
{
    list->n--;
    free(list->v[list->n]);
    list->v[list->n] = NULL;
}

/* 1 when this destination was already done in this expansion (and mark
 * it done otherwise). */
static int seen_before(struct resolve_state *rs, const char *kind, const char *what)
{
    vstr *key = vstr_new(64);
    int ret;

    vstr_printf(key, "%s:%s", kind, what);
    ret = in_list(rs->seen, vstr_str(key));
    if (!ret)
        argv_add(rs->seen, vstr_str(key));
    vstr_free(key);
    return ret;
}

static void runas_free(struct local_runas *ra)
{
    xfree(ra->name);
    xfree(ra->home);
    xfree(ra->shell);
}

/* The identity for a file owner: default_privs instead of root or
 * mail_owner; name, home and shell from the password file. */
static void runas_for_uid(const struct local_config *cfg, struct local_runas *ra, uid_t uid,
                          gid_t gid)
{
    struct passwd *pw;

    if (!cfg->as_root || uid == 0 || uid == cfg->mail_owner_uid)
        ra->id = cfg->default_privs;
    else {
        ra->id.uid = uid;
        ra->id.gid = gid;
    }
    pw = getpwuid(ra->id.uid);
    ra->name = xstrdup(pw ? pw->pw_name : "");
    ra->home = xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
    ra->shell = xstrdup(pw && pw->pw_shell ? pw->pw_shell : "");
    if (pw != NULL && ra->id.uid == uid && uid != cfg->default_privs.uid)
        ra->id.gid = pw->pw_gid;        /* the owner's primary group */
}

/* Deliver to a file or directory destination. */
static void deliver_file_target(struct resolve_state *rs, const struct expand_ctx *ctx,
                                const char *target, int maildir)
{
    if (seen_before(rs, "file", target))
        return;
    vstr_set(rs->delivered_to, ctx->owner);
    rs->msg->delivered_to =
        (rs->cfg->delivered_mask & DELIVERED_FILE) ? vstr_str(rs->delivered_to) : NULL;
    if (maildir)
        deliver_maildir(rs->cfg, rs->msg, target, &ctx->runas.id, rs->r);
    else
        deliver_mbox(rs->cfg, rs->msg, target, &ctx->runas.id, 0, rs->r);
}

static void deliver_command_target(struct resolve_state *rs, const struct expand_ctx *ctx,
                                   const char *command)
{
    struct command_env env;
    vstr *key = vstr_new(64);

    vstr_printf(key, "%ld:%s", (long)ctx->runas.id.uid, command);
    if (seen_before(rs, "command", vstr_str(key))) {
        vstr_free(key);
        return;
    }
    vstr_free(key);
    if (rs->cfg->as_root && ctx->runas.id.uid == 0) {
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "refusing to run a command as root");
        return;
    }
    env.home = ctx->runas.home;
    env.logname = ctx->runas.name;
    env.shell = ctx->runas.shell;
    env.sender = rs->msg->sender;
    env.recipient = ctx->owner;
    env.local = ctx->local;
    env.domain = ctx->domain;
    env.extension = ctx->extension;
    env.orig_recipient = rs->msg->orig_rcpt;
    vstr_set(rs->delivered_to, ctx->owner);
    rs->msg->delivered_to =
        (rs->cfg->delivered_mask & DELIVERED_COMMAND) ? vstr_str(rs->delivered_to) : NULL;
    deliver_command(rs->cfg, rs->msg, command, &ctx->runas, &env, rs->r);
}

/* Remember a remote address for forwarding (local_deliver_recipient
 * sends them once the expansion is complete). */
static void forward_add(struct resolve_state *rs, const char *owner, const char *addr)
{
    size_t i;

    if (seen_before(rs, "forward", addr))
        return;
    for (i = 0; i < rs->nfwd; i++)
        if (strcmp(rs->fwd[i].delivered_to, owner) == 0)
            break;
    if (i == rs->nfwd) {
        rs->fwd = xreallocarray(rs->fwd, rs->nfwd + 1, sizeof(*rs->fwd));
        rs->fwd[i].delivered_to = xstrdup(owner);
        rs->fwd[i].rcpts = argv_new();
        rs->nfwd++;
    }
    argv_add(rs->fwd[i].rcpts, addr);
}

/* Read a .forward or :include: file that is already open: at most
 * LOCAL_FORWARD_MAX_SIZE bytes.  0, or -1 with errno (EFBIG: too big). */
static int read_small_file(int fd, vstr *text)
{
    char buf[4096];
    ssize_t n;

    vstr_reset(text);
    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return 0;
        vstr_append(text, buf, (size_t)n);
        if (vstr_len(text) > LOCAL_FORWARD_MAX_SIZE) {
            errno = EFBIG;
            return -1;
        }
    }
}

/* Open path with the identity id (so the permissions of that user
 * decide), never following a symbolic link.  fd, or -1 with errno. */
static int open_as(const struct local_config *cfg, const struct local_identity *id,
                   const char *path)
{
    int fd, saved;

    if (local_identity_enter(cfg, id) != 0)
        return -1;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    saved = errno;
    local_identity_leave(cfg);
    errno = saved;
    return fd;
}

static void expand_include(struct resolve_state *rs, const struct expand_ctx *ctx,
                           const char *path, int depth)
{
    struct expand_ctx sub;
    argv_t *targets = NULL;
    vstr *text = vstr_new(256);
    vstr *err = vstr_new(64);
    struct stat st;
    char buf[256];
    int fd;

    if (*path != '/') {
        msg_warn("%s: :include: file name is not absolute: %s", rs->msg->queue_id,
                 log_printable(buf, sizeof(buf), path, strlen(path)));
        local_result_set(rs->r, LOCAL_BOUNCED, "5.3.5", ":include: file name is not absolute");
        goto out;
    }
    if (in_list(rs->includes, path)) {
        msg_warn("%s: :include: loop: %s", rs->msg->queue_id,
                 log_printable(buf, sizeof(buf), path, strlen(path)));
        goto out;       /* its destinations are being delivered already */
    }
    if (depth > LOCAL_MAX_DEPTH) {
        local_result_set(rs->r, LOCAL_BOUNCED, "5.4.6", "mail forwarding loop for %s",
                         ctx->owner);
        goto out;
    }
    fd = open_as(rs->cfg, &ctx->runas.id, path);
    if (fd < 0) {
        local_result_errno(rs->r, errno, "cannot open include file %s", path);
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        (void)close(fd);
        local_result_set(rs->r, LOCAL_BOUNCED, "5.3.5", "include file %s is not a regular file",
                         path);
        goto out;
    }
    if (read_small_file(fd, text) != 0) {
        (void)close(fd);
        if (errno == EFBIG)
            local_result_set(rs->r, LOCAL_BOUNCED, "5.3.5", "include file %s is too large",
                             path);
        else
            local_result_errno(rs->r, errno, "cannot read include file %s", path);
        goto out;
    }
    (void)close(fd);
    targets = argv_new();
    if (forward_text_parse(vstr_str(text), vstr_len(text), targets, err) != 0) {
        msg_warn("%s: include file %s: %s", rs->msg->queue_id,
                 log_printable(buf, sizeof(buf), path, strlen(path)), vstr_str(err));
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.5", "bad include file %s", path);
        goto out;
    }
    sub = *ctx;
    sub.source = SOURCE_INCLUDE;
    /* Destinations inside run with the privileges of the file's owner. */
    runas_for_uid(rs->cfg, &sub.runas, st.st_uid, st.st_gid);
    argv_add(rs->includes, path);
    expand_list(rs, &sub, targets, depth + 1);
    list_pop(rs->includes);
    runas_free(&sub.runas);
out:
    if (targets != NULL)
        argv_free(targets);
    vstr_free(text);
    vstr_free(err);
}

static void expand_list(struct resolve_state *rs, const struct expand_ctx *ctx,
                        const argv_t *targets, int depth)
{
    vstr *addr = vstr_new(64);
    char buf[256];
    size_t i;

    for (i = 0; i < targets->n; i++) {
        const char *t = targets->v[i];
        enum alias_target_kind kind = alias_target_classify(t);

        switch (kind) {
        case TARGET_MAILDIR:
        case TARGET_MBOX:
            if (ctx->source != SOURCE_RELAY && !(rs->cfg->allow_files & ctx->source)) {
                local_result_set(rs->r, LOCAL_BOUNCED, "5.7.1", "mail to file is restricted");
                break;
            }
            deliver_file_target(rs, ctx, t, kind == TARGET_MAILDIR);
            break;
        case TARGET_COMMAND:
            if (ctx->source != SOURCE_RELAY && !(rs->cfg->allow_commands & ctx->source)) {
                local_result_set(rs->r, LOCAL_BOUNCED, "5.7.1", "mail to command is restricted");
                break;
            }
            deliver_command_target(rs, ctx, t + 1);
            break;
        case TARGET_INCLUDE:
            expand_include(rs, ctx, t + 9, depth);
            break;
        case TARGET_USER_MAILBOX:
        case TARGET_ADDRESS:
            vstr_set(addr, kind == TARGET_USER_MAILBOX ? t + 1 : t);
            if (strchr(vstr_str(addr), '@') == NULL)
                vstr_printf(addr, "@%s", ctx->domain);
            lowercase(vstr_str(addr));
            if (kind == TARGET_USER_MAILBOX || in_list(rs->chain, vstr_str(addr))) {
                /* "\user", or an address being expanded: its mailbox. */
                resolve(rs, vstr_str(addr), depth + 1, RESOLVE_SKIP_ALIAS | RESOLVE_SKIP_FORWARD);
            } else if (match_list_match_domain(local_domains, mail_addr_domain(vstr_str(addr)))) {
                resolve(rs, vstr_str(addr), depth + 1, 0);
            } else {
                forward_add(rs, ctx->owner, vstr_str(addr));
            }
            break;
        default:
            msg_warn("%s: bad destination for %s: %s", rs->msg->queue_id, ctx->owner,
                     log_printable(buf, sizeof(buf), t, strlen(t)));
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "bad destination for %s",
                             ctx->owner);
            break;
        }
    }
    vstr_free(addr);
}

/* Expand an alias value (or luser_relay's) for address owner. */
static void expand_value(struct resolve_state *rs, struct expand_ctx *ctx, const char *value,
                         int depth)
{
    argv_t *targets = argv_new();
    char buf[256];

    if (alias_value_split(value, targets) != 0 || targets->n == 0) {
        msg_warn("%s: bad alias value for %s", rs->msg->queue_id,
                 log_printable(buf, sizeof(buf), ctx->owner, strlen(ctx->owner)));
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "bad alias entry for %s", ctx->owner);
    } else {
        argv_add(rs->chain, ctx->owner);
        expand_list(rs, ctx, targets, depth);
        list_pop(rs->chain);
    }
    argv_free(targets);
}

/* A system user's mailbox, written as that user. */
static void deliver_user(struct resolve_state *rs, const struct passwd *pw, const char *addr)
{
    const struct local_config *cfg = rs->cfg;
    struct local_identity id = {pw->pw_uid, pw->pw_gid};
    vstr *path = vstr_new(128);
    struct stat st;
    size_t len;

    if (seen_before(rs, "mailbox", pw->pw_name))
        goto out;
    /* Never write as root into a mailbox path: root's mail is written
     * with default_privs (alias root to a real user). */
    if (id.uid == 0)
        id = cfg->default_privs;
    vstr_set(rs->delivered_to, addr);
    rs->msg->delivered_to = (cfg->delivered_mask & DELIVERED_FILE) ? vstr_str(rs->delivered_to)
                                                                   : NULL;
    if (*cfg->home_mailbox != '\0') {
        if (pw->pw_dir == NULL || *pw->pw_dir != '/' || stat(pw->pw_dir, &st) != 0
            || !S_ISDIR(st.st_mode)) {
            local_result_set(rs->r, LOCAL_BOUNCED, "5.2.0",
                             "user %s has no home directory", pw->pw_name);
            goto out;
        }
        vstr_printf(path, "%s/%s", pw->pw_dir, cfg->home_mailbox);
        len = strlen(cfg->home_mailbox);
        if (cfg->home_mailbox[len - 1] == '/')
            deliver_maildir(cfg, rs->msg, vstr_str(path), &id, rs->r);
        else
            deliver_mbox(cfg, rs->msg, vstr_str(path), &id, 0, rs->r);
    } else {
        len = strlen(cfg->mail_spool_directory);
        vstr_set(path, cfg->mail_spool_directory);
        if (len > 0 && cfg->mail_spool_directory[len - 1] == '/') {
            vstr_printf(path, "%s/", pw->pw_name);
            deliver_maildir(cfg, rs->msg, vstr_str(path), &id, rs->r);
        } else {
            vstr_printf(path, "/%s", pw->pw_name);
            deliver_mbox(cfg, rs->msg, vstr_str(path), &id, 1, rs->r);
        }
    }
out:
    vstr_free(path);
}

/* A user name that may become a file name. */
static int user_name_ok(const char *user)
{
    return *user != '\0' && *user != '.' && strchr(user, '/') == NULL;
}

/* luser_relay and forward_path may also name main.cf parameters. */
static int expand_param(vstr *out, const char *name, size_t len)
{
    vstr *text = vstr_new(32);
    vstr *err = vstr_new(32);
    int ret = -1;

    vstr_append(text, name, len);
    if (config_raw(vstr_str(text)) != NULL) {
        vstr_reset(text);
        vstr_printf(text, "${%.*s}", (int)len, name);
        ret = config_expand(out, vstr_str(text), err);
    }
    vstr_free(text);
    vstr_free(err);
    return ret;
}

/* The user's .forward: 1 when one was found and used (or failed: the
 * result says so), 0 to deliver to the mailbox. */
static int deliver_forward(struct resolve_state *rs, const struct passwd *pw, const char *addr,
                           const char *local, const char *ext, const char *domain, int depth)
{
    const struct local_config *cfg = rs->cfg;
    argv_t *paths = argv_split(cfg->forward_path, ", \t\r\n");
    argv_t *targets = argv_new();
    vstr *path = vstr_new(128);
    vstr *err = vstr_new(64);
    vstr *text = vstr_new(256);
    struct forward_vars vars;
    struct expand_ctx ctx;
    struct stat st;
    char buf[256];
    size_t i;
    int fd = -1, rc, used = 0;

    memset(&ctx, 0, sizeof(ctx));
    runas_for_uid(cfg, &ctx.runas, pw->pw_uid, pw->pw_gid);
    vars.user = pw->pw_name;
    vars.home = pw->pw_dir;
    vars.shell = pw->pw_shell;
    vars.local = local;
    vars.extension = ext;
    vars.recipient = addr;
    vars.domain = domain;
    vars.recipient_delimiter = cfg->recipient_delimiter;
    vars.param = expand_param;
    for (i = 0; i < paths->n && fd < 0; i++) {
        vstr_reset(err);
        rc = forward_path_expand(path, paths->v[i], &vars, err);
        if (rc < 0) {
            msg_warn("%s: %s (recipient %s)", rs->msg->queue_id, vstr_str(err),
                     log_printable(buf, sizeof(buf), addr, strlen(addr)));
            continue;
        }
        if (rc > 0 || vstr_str(path)[0] != '/')
            continue;
        fd = open_as(cfg, &ctx.runas.id, vstr_str(path));
        if (fd >= 0)
            break;
        if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == ELOOP
            || errno == ENAMETOOLONG) {
            if (errno == ELOOP)
                msg_warn("%s: ignoring symbolic link %s", rs->msg->queue_id, vstr_str(path));
            continue;
        }
        local_result_errno(rs->r, errno, "cannot open forward file %s", vstr_str(path));
        used = 1;
        goto out;
    }
    if (fd < 0)
        goto out;
    /* The file must belong to the user (or root) and be writable by
     * nobody else, or anyone could redirect the user's mail. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || (st.st_uid != pw->pw_uid && st.st_uid != 0) || (st.st_mode & 022) != 0) {
        msg_warn("%s: ignoring %s: not a regular file owned by %s and writable only by its owner",
                 rs->msg->queue_id, vstr_str(path), pw->pw_name);
        goto out;
    }
    if (read_small_file(fd, text) != 0) {
        if (errno == EFBIG)
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.5", "forward file %s is too large",
                             vstr_str(path));
        else
            local_result_errno(rs->r, errno, "cannot read forward file %s", vstr_str(path));
        used = 1;
        goto out;
    }
    if (forward_text_parse(vstr_str(text), vstr_len(text), targets, err) != 0) {
        msg_warn("%s: forward file %s: %s", rs->msg->queue_id, vstr_str(path), vstr_str(err));
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.5", "bad forward file %s", vstr_str(path));
        used = 1;
        goto out;
    }
    if (targets->n == 0)
        goto out;           /* an empty .forward: the mailbox */
    ctx.source = SOURCE_FORWARD;
    ctx.owner = addr;
    ctx.domain = domain;
    ctx.local = local;
    ctx.extension = ext;
    argv_add(rs->chain, addr);
    expand_list(rs, &ctx, targets, depth);
    list_pop(rs->chain);
    used = 1;
out:
    if (fd >= 0)
        (void)close(fd);
    runas_free(&ctx.runas);
    argv_free(paths);
    argv_free(targets);
    vstr_free(path);
    vstr_free(err);
    vstr_free(text);
    return used;
}

/* Look the local part up in the alias tables: 1 found (value, and the
 * table in *which), 0 not, -1 error. */
static int alias_lookup(const char *key, vstr *value, size_t *which)
{
    size_t i;
    int found;

    for (i = 0; i < alias_table_count; i++) {
        found = table_lookup(alias_tables[i].t, key, value);
        if (found != 0) {
            *which = i;
            return found;
        }
    }
    return 0;
}

static void resolve(struct resolve_state *rs, const char *address, int depth, int flags)
{
    const struct local_config *cfg = rs->cfg;
    vstr *local = vstr_new(64);
    vstr *user = vstr_new(64);
    vstr *ext = vstr_new(16);
    vstr *addr = vstr_new(64);
    vstr *value = vstr_new(128);
    vstr *err = vstr_new(64);
    vstr *domain = vstr_new(32);
    struct expand_ctx ctx;
    struct passwd *pw;
    struct luser_vars vars;
    char buf[256];
    size_t which = 0;
    int found = 0;

    memset(&ctx, 0, sizeof(ctx));
    if (depth > LOCAL_MAX_DEPTH) {
        local_result_set(rs->r, LOCAL_BOUNCED, "5.4.6", "mail forwarding loop for %s", address);
        goto out;
    }
    mail_addr_local(local, address);
    lowercase(vstr_str(local));
    vstr_set(domain, mail_addr_domain(address));
    lowercase(vstr_str(domain));
    mail_addr_split_ext(vstr_str(local), cfg->recipient_delimiter, user, ext);
    vstr_printf(addr, "%s@%s", vstr_str(local), vstr_str(domain));

    /* Mail that was delivered to this address before has come back. */
    if (rs->msg->delivered_list != NULL && in_list(rs->msg->delivered_list, vstr_str(addr))) {
        local_result_set(rs->r, LOCAL_BOUNCED, "5.4.6", "mail forwarding loop for %s",
                         vstr_str(addr));
        goto out;
    }
    ctx.owner = vstr_str(addr);
    ctx.domain = vstr_str(domain);
    ctx.local = vstr_str(local);
    ctx.extension = vstr_str(ext);
    if (!(flags & RESOLVE_SKIP_ALIAS) && alias_tables_broken) {
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "alias database unavailable");
        goto out;
    }
    if (!(flags & RESOLVE_SKIP_ALIAS) && alias_table_count > 0) {
        found = alias_lookup(vstr_str(local), value, &which);
        if (found == 0 && vstr_len(ext) > 0)
            found = alias_lookup(vstr_str(user), value, &which);
        if (found < 0) {
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "alias database unavailable");
            goto out;
        }
        if (found > 0) {
            ctx.source = SOURCE_ALIAS;
            if (alias_tables[which].owner_known)
                runas_for_uid(cfg, &ctx.runas, alias_tables[which].uid, alias_tables[which].gid);
            else
                runas_for_uid(cfg, &ctx.runas, 0, 0);
            expand_value(rs, &ctx, vstr_str(value), depth);
            goto out;
        }
    }
    if (user_name_ok(vstr_str(user))) {
        errno = 0;
        pw = getpwnam(vstr_str(user));
        if (pw != NULL) {
            struct passwd copy = *pw;

            /* getpwnam's buffer is reused by the lookups below. */
            copy.pw_name = xstrdup(pw->pw_name);
            copy.pw_dir = xstrdup(pw->pw_dir ? pw->pw_dir : "");
            copy.pw_shell = xstrdup(pw->pw_shell ? pw->pw_shell : "");
            if ((flags & RESOLVE_SKIP_FORWARD)
                || !deliver_forward(rs, &copy, vstr_str(addr), vstr_str(local), vstr_str(ext),
                                    vstr_str(domain), depth))
                deliver_user(rs, &copy, vstr_str(addr));
            free(copy.pw_name);
            free(copy.pw_dir);
            free(copy.pw_shell);
            goto out;
        }
        if (errno != 0 && errno != ENOENT && errno != ESRCH) {
            local_result_errno(rs->r, errno, "user lookup %s", vstr_str(user));
            goto out;
        }
    }
    if (*cfg->luser_relay != '\0') {
        vars.user = vstr_str(user);
        vars.local = vstr_str(local);
        vars.extension = vstr_str(ext);
        vars.recipient = vstr_str(addr);
        vars.domain = vstr_str(domain);
        vars.param = expand_param;
        if (luser_relay_expand(value, cfg->luser_relay, &vars, err) == 0) {
            ctx.source = SOURCE_RELAY;
            runas_for_uid(cfg, &ctx.runas, 0, 0);
            expand_value(rs, &ctx, vstr_str(value), depth);
            goto out;
        }
        msg_warn("%s: %s (recipient %s)", rs->msg->queue_id, vstr_str(err),
                 log_printable(buf, sizeof(buf), vstr_str(addr), vstr_len(addr)));
    }
    local_result_set(rs->r, LOCAL_BOUNCED, "5.1.1", "unknown user: \"%s\"", vstr_str(user));
out:
    runas_free(&ctx.runas);
    vstr_free(local);
    vstr_free(user);
    vstr_free(ext);
    vstr_free(addr);
    vstr_free(value);
    vstr_free(err);
    vstr_free(domain);
}

/* Send what the expansion collected for remote addresses. */
static void forward_flush(struct resolve_state *rs)
{
    vstr *queue_id = vstr_new(32);
    vstr *why = vstr_new(64);
    size_t i;

    for (i = 0; i < rs->nfwd; i++) {
        const char *dt = (rs->cfg->delivered_mask & DELIVERED_FORWARD) ? rs->fwd[i].delivered_to
                                                                       : NULL;

        if (local_forward_submit(rs->msg, dt, rs->fwd[i].rcpts, queue_id, why) == 0)
            local_result_set(rs->r, LOCAL_SENT, "2.0.0", "forwarded as %s", vstr_str(queue_id));
        else
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "cannot forward: %s",
                             vstr_str(why));
        free(rs->fwd[i].delivered_to);
        argv_free(rs->fwd[i].rcpts);
    }
    free(rs->fwd);
    rs->fwd = NULL;
    rs->nfwd = 0;
    vstr_free(queue_id);
    vstr_free(why);
}

void local_deliver_recipient(const struct local_config *cfg, struct local_message *msg,
                             const char *address, struct local_result *r)
{
    struct resolve_state rs;

    memset(&rs, 0, sizeof(rs));
    rs.cfg = cfg;
    rs.msg = msg;
    rs.r = r;
    rs.chain = argv_new();
    rs.includes = argv_new();
    rs.seen = argv_new();
    rs.delivered_to = vstr_new(64);
    resolve(&rs, address, 0, 0);
    /* A recipient that already failed for good is not forwarded. */
    /* Forward only when everything else went well: a deferred recipient
     * is tried again as a whole, a bounced one is not forwarded. */
    if (rs.nfwd > 0 && (vstr_len(r->dsn) == 0 || r->status == LOCAL_SENT))
        forward_flush(&rs);
    else if (rs.nfwd > 0) {
        size_t i;

        for (i = 0; i < rs.nfwd; i++) {
            free(rs.fwd[i].delivered_to);
            argv_free(rs.fwd[i].rcpts);
        }
        free(rs.fwd);
    }
    if (vstr_len(r->dsn) == 0)
        local_result_set(r, LOCAL_DEFERRED, "4.3.0", "no delivery result");
    argv_free(rs.chain);
    argv_free(rs.includes);
    argv_free(rs.seen);
    vstr_free(rs.delivered_to);
    msg->delivered_to = NULL;
}
