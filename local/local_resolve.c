/* local(8) address resolution, as Postfix's local(8) documents it: the
 * alias tables (with the address extension, then without), then the
 * system user's mailbox (home_mailbox or mail_spool_directory), then
 * luser_relay, else bounce as unknown user.  Alias expansion recurses
 * with a depth limit; an alias that names itself delivers to the mailbox. */
#include "config.h"
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "argv.h"
#include "local.h"
#include "local_util.h"
#include "log.h"
#include "mail_addr.h"
#include "match_list.h"
#include "params.h"
#include "table.h"
#include "vstr.h"

static table_list *alias_tables;
static int alias_tables_broken;
static match_list *local_domains;

void local_resolve_init(void)
{
    vstr *err = vstr_new(64);
    const char *maps = config_str("alias_maps");

    if (*maps != '\0') {
        alias_tables = table_list_open(maps, TABLE_ALIASES, err);
        if (alias_tables == NULL) {
            /* Defer alias deliveries rather than bounce them. */
            msg_warn("alias_maps: %s", vstr_str(err));
            alias_tables_broken = 1;
        }
    }
    vstr_reset(err);
    local_domains = match_list_domain(config_str("mydestination"), 0, err);
    if (local_domains == NULL)
        msg_fatal("mydestination: %s", vstr_str(err));
    vstr_free(err);
}

struct resolve_state {
    const struct local_config *cfg;
    struct local_message *msg;
    struct local_result *r;
    argv_t *chain;          /* aliases being expanded, for self-reference */
    vstr *delivered_to;
};

static void resolve(struct resolve_state *rs, const char *address, int depth, int skip_alias);

static int in_chain(const argv_t *chain, const char *addr)
{
    size_t i;

    for (i = 0; i < chain->n; i++)
        if (strcasecmp(chain->v[i], addr) == 0)
            return 1;
    return 0;
}

/* Deliver to a file or directory target named by an alias or luser_relay,
 * with default_privs. */
static void deliver_file_target(struct resolve_state *rs, const char *target, int maildir,
                                const char *for_addr)
{
    vstr_set(rs->delivered_to, for_addr);
    rs->msg->delivered_to = vstr_str(rs->delivered_to);
    if (maildir)
        deliver_maildir(rs->cfg, rs->msg, target, &rs->cfg->default_privs, rs->r);
    else
        deliver_mbox(rs->cfg, rs->msg, target, &rs->cfg->default_privs, 0, rs->r);
}

/* Deliver to each target of an alias value (or of luser_relay). */
static void expand_targets(struct resolve_state *rs, const char *owner, const char *domain,
                           const char *value, int depth)
{
    argv_t *targets = argv_new();
    vstr *addr = vstr_new(64);
    char buf[256];
    size_t i;

    if (alias_value_split(value, targets) != 0 || targets->n == 0) {
        msg_warn("%s: bad alias value for %s", rs->msg->queue_id,
                 log_printable(buf, sizeof(buf), owner, strlen(owner)));
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "bad alias entry for %s", owner);
        goto out;
    }
    argv_add(rs->chain, owner);
    for (i = 0; i < targets->n; i++) {
        const char *t = targets->v[i];

        switch (alias_target_classify(t)) {
        case TARGET_MAILDIR:
            deliver_file_target(rs, t, 1, owner);
            break;
        case TARGET_MBOX:
            deliver_file_target(rs, t, 0, owner);
            break;
        case TARGET_ADDRESS:
            vstr_set(addr, t);
            if (strchr(t, '@') == NULL)
                vstr_printf(addr, "@%s", domain);
            lowercase(vstr_str(addr));
            if (!match_list_match_domain(local_domains, mail_addr_domain(vstr_str(addr)))) {
                local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0",
                                 "forwarding to remote addresses is not available yet");
            } else {
                /* "root: root, other" delivers to root's own mailbox. */
                resolve(rs, vstr_str(addr), depth + 1, in_chain(rs->chain, vstr_str(addr)));
            }
            break;
        case TARGET_COMMAND:
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0",
                             "delivery to commands is not available yet");
            break;
        case TARGET_INCLUDE:
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0",
                             "delivery to :include: files is not available yet");
            break;
        default:
            msg_warn("%s: bad alias target for %s: %s", rs->msg->queue_id, owner,
                     log_printable(buf, sizeof(buf), t, strlen(t)));
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "bad alias target for %s", owner);
            break;
        }
    }
    rs->chain->n--;
    free(rs->chain->v[rs->chain->n]);
    rs->chain->v[rs->chain->n] = NULL;
out:
    argv_free(targets);
    vstr_free(addr);
}

/* A system user's mailbox, written as that user. */
static void deliver_user(struct resolve_state *rs, const struct passwd *pw, const char *addr)
{
    const struct local_config *cfg = rs->cfg;
    struct local_identity id = {pw->pw_uid, pw->pw_gid};
    vstr *path = vstr_new(128);
    struct stat st;
    size_t len;

    /* Never write as root into a mailbox path: root's mail is written
     * with default_privs (alias root to a real user). */
    if (id.uid == 0)
        id = cfg->default_privs;
    vstr_set(rs->delivered_to, addr);
    rs->msg->delivered_to = vstr_str(rs->delivered_to);
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

/* luser_relay may also name main.cf parameters ($myhostname). */
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

static void resolve(struct resolve_state *rs, const char *address, int depth, int skip_alias)
{
    const struct local_config *cfg = rs->cfg;
    vstr *local = vstr_new(64);
    vstr *user = vstr_new(64);
    vstr *ext = vstr_new(16);
    vstr *addr = vstr_new(64);
    vstr *value = vstr_new(128);
    vstr *err = vstr_new(64);
    vstr *domain = vstr_new(32);
    struct passwd *pw;
    struct luser_vars vars;
    char buf[256];
    int found = 0;

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

    if (!skip_alias && alias_tables_broken) {
        local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "alias database unavailable");
        goto out;
    }
    if (!skip_alias && alias_tables != NULL) {
        found = table_list_lookup(alias_tables, vstr_str(local), value);
        if (found == 0 && vstr_len(ext) > 0)
            found = table_list_lookup(alias_tables, vstr_str(user), value);
        if (found < 0) {
            local_result_set(rs->r, LOCAL_DEFERRED, "4.3.0", "alias database unavailable");
            goto out;
        }
        if (found > 0) {
            expand_targets(rs, vstr_str(addr), vstr_str(domain), vstr_str(value), depth);
            goto out;
        }
    }
    if (user_name_ok(vstr_str(user))) {
        errno = 0;
        pw = getpwnam(vstr_str(user));
        if (pw != NULL) {
            deliver_user(rs, pw, vstr_str(addr));
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
            expand_targets(rs, vstr_str(addr), vstr_str(domain), vstr_str(value), depth);
            goto out;
        }
        msg_warn("%s: %s (recipient %s)", rs->msg->queue_id, vstr_str(err),
                 log_printable(buf, sizeof(buf), vstr_str(addr), vstr_len(addr)));
    }
    local_result_set(rs->r, LOCAL_BOUNCED, "5.1.1", "unknown user: \"%s\"", vstr_str(user));
out:
    vstr_free(local);
    vstr_free(user);
    vstr_free(ext);
    vstr_free(addr);
    vstr_free(value);
    vstr_free(err);
    vstr_free(domain);
}

void local_deliver_recipient(const struct local_config *cfg, struct local_message *msg,
                             const char *address, struct local_result *r)
{
    struct resolve_state rs;

    rs.cfg = cfg;
    rs.msg = msg;
    rs.r = r;
    rs.chain = argv_new();
    rs.delivered_to = vstr_new(64);
    resolve(&rs, address, 0, 0);
    if (vstr_len(r->dsn) == 0)  /* cannot happen: every path sets a result */
        local_result_set(r, LOCAL_DEFERRED, "4.3.0", "no delivery result");
    argv_free(rs.chain);
    vstr_free(rs.delivered_to);
    msg->delivered_to = NULL;
}
