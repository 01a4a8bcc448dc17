/* local(8): the local delivery agent.  main() checks that it runs
 * privileged (it must switch to each recipient's identity: the skeleton
 * refuses -u because hooks.privileged is set, habit 2) and hands the
 * single_server skeleton the per-request service (local_service.c). */
#include "config.h"
#include <signal.h>
#include <unistd.h>
#include "local.h"
#include "local_parse.h"
#include "log.h"
#include "params.h"
#include "privs.h"
#include "skeleton.h"

struct local_config local_cfg;

/* The keyword lists and the command settings. */
static void local_config_lists(void)
{
    static const char *const sources[] = {"alias", "forward", "include", NULL};
    static const char *const delivered[] = {"command", "file", "forward", NULL};
    vstr *unknown = vstr_new(32);

    local_cfg.allow_commands = keyword_mask(config_str("allow_mail_to_commands"), sources,
                                            unknown);
    local_cfg.allow_files = keyword_mask(config_str("allow_mail_to_files"), sources, unknown);
    if (vstr_len(unknown) > 0)
        msg_warn("allow_mail_to_commands/allow_mail_to_files: unknown keywords: %s",
                 vstr_str(unknown));
    vstr_reset(unknown);
    local_cfg.delivered_mask = keyword_mask(config_str("prepend_delivered_header"), delivered,
                                            unknown);
    if (vstr_len(unknown) > 0)
        msg_warn("prepend_delivered_header: unknown keywords: %s", vstr_str(unknown));
    vstr_free(unknown);
    local_cfg.command_time_limit = config_time("command_time_limit");
    local_cfg.command_shell = config_str("local_command_shell");
    local_cfg.export_environment = config_str("export_environment");
    /* Raw: $home and friends are expanded per recipient. */
    local_cfg.forward_path = config_raw("forward_path");
}

static void local_post_jail(void *ctx)
{
    uid_t uid;
    gid_t gid;
    const char *privs = config_str("default_privs");

    (void)ctx;
    signal(SIGPIPE, SIG_IGN);
    local_cfg.myhostname = config_str("myhostname");
    local_cfg.recipient_delimiter = config_str("recipient_delimiter");
    local_cfg.home_mailbox = config_str("home_mailbox");
    local_cfg.mail_spool_directory = config_str("mail_spool_directory");
    /* Raw: $user and friends are expanded per recipient (local_util.c). */
    local_cfg.luser_relay = config_raw("luser_relay");
    local_cfg.mailbox_size_limit = config_size("mailbox_size_limit");
    local_cfg.as_root = (geteuid() == 0);
    if (local_cfg.as_root) {
        if (privs_lookup(privs, &uid, &gid) != 0)
            msg_fatal("default_privs: unknown user \"%s\"", privs);
        if (uid == 0)
            msg_fatal("default_privs: \"%s\" must not be a privileged account", privs);
    } else {
        uid = geteuid();
        gid = getegid();
        msg_info("not running as root: every delivery runs as uid %ld", (long)uid);
    }
    local_cfg.default_privs.uid = uid;
    local_cfg.default_privs.gid = gid;
    local_cfg.mail_owner_uid = (uid_t)-1;
    if (local_cfg.as_root) {
        if (privs_lookup(config_str("mail_owner"), &uid, &gid) == 0)
            local_cfg.mail_owner_uid = uid;
        if (local_cfg.mail_owner_uid == local_cfg.default_privs.uid)
            msg_fatal("default_privs must not be the mail_owner account");
    }
    local_config_lists();
    local_resolve_init();
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .post_jail = local_post_jail,
        .privileged = 1,
    };

    return single_server_main(argc, argv, local_service, &hooks);
}
