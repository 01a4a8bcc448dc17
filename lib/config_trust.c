/* Configuration loading for the set-group-id commands (postdrop,
 * postqueue).  Their caller is untrusted: a main.cf of the caller's own
 * choosing could point them at any directory their group may write, so
 * they accept a configuration directory other than the compiled-in one
 * only when root could be the only author of it, or when the default
 * main.cf lists it in alternate_config_directories (as Postfix does). */
#include "config.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "mem.h"
#include "params.h"
#include "vstr.h"

/* Root owns it and nobody else may write it. */
static int root_only_writable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static int dir_is_root_controlled(const char *dir)
{
    vstr *main_cf = vstr_new(PATH_MAX);
    int ok;

    vstr_printf(main_cf, "%s/main.cf", dir);
    ok = root_only_writable(dir) && root_only_writable(vstr_str(main_cf));
    vstr_free(main_cf);
    return ok;
}

/* Is dir named in alternate_config_directories of the default main.cf? */
static int dir_is_listed_alternate(const char *dir, int exit_status)
{
    char *want = realpath(dir, NULL);
    const char *list;
    argv_t *names;
    int found = 0;

    /* Without a default main.cf no directory can be listed. */
    if (want == NULL || access(DEF_CONFIG_DIR "/main.cf", F_OK) != 0) {
        free(want);
        return 0;
    }
    config_load_or_exit(DEF_CONFIG_DIR, exit_status);
    list = config_str("alternate_config_directories");
    names = argv_split(list, ", \t\r\n");
    for (size_t i = 0; i < names->n && !found; i++) {
        char *have = realpath(names->v[i], NULL);

        found = (have != NULL && strcmp(have, want) == 0);
        free(have);
    }
    argv_free(names);
    free(want);
    return found;
}

void config_load_setid_or_exit(const char *cmdline_dir, int exit_status)
{
    const char *dir = config_dir_choose(cmdline_dir);
    int setid = (getuid() != geteuid() || getgid() != getegid());

    if (setid && getuid() != 0 && strcmp(dir, DEF_CONFIG_DIR) != 0
        && !dir_is_root_controlled(dir)) {
        char *chosen = xstrdup(dir);

        if (!dir_is_listed_alternate(chosen, exit_status)) {
            msg_error("configuration directory %s is not allowed for unprivileged users: "
                      "list it in alternate_config_directories in %s/main.cf",
                      chosen, DEF_CONFIG_DIR);
            exit(exit_status);
        }
        config_dir_choose(chosen);
        xfree(chosen);
    }
    config_load_or_exit(config_dir(), exit_status);
}
