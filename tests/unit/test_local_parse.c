/* Unit tests for local(8)'s forwarding parsers (local/local_parse.c):
 * .forward / :include: text (comments, quoting, malformed input, limits),
 * forward_path expansion, |command splitting, command environments,
 * exit status mapping, Delivered-To: recognition and keyword lists. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "argv.h"
#include "local_parse.h"
#include "local_util.h"
#include "vstr.h"

#define S(x) x, strlen(x)

/* A wait status as waitpid() reports it (Linux encoding). */
#define EXITED(code) (((code) & 0xff) << 8)
#define SIGNALED(sig) ((sig) & 0x7f)

static void test_forward_text(void **state)
{
    argv_t *a = argv_new();
    vstr *err = vstr_new(32);
    const char *text = "# my forward\n"
                       "\"\", \n"
                       "\n"
                       "bob@example.org, \\me\n"
                       "   # indented comment\n"
                       "\"|/usr/bin/procmail -a x,y\"\n"
                       "/home/me/mbox\r\n"
                       ":include:/etc/list";

    (void)state;
    assert_int_equal(forward_text_parse(S(text), a, err), 0);
    assert_int_equal(a->n, 5);
    assert_string_equal(a->v[0], "bob@example.org");
    assert_string_equal(a->v[1], "\\me");
    assert_string_equal(a->v[2], "|/usr/bin/procmail -a x,y");
    assert_string_equal(a->v[3], "/home/me/mbox");
    assert_string_equal(a->v[4], ":include:/etc/list");
    assert_int_equal(alias_target_classify(a->v[1]), TARGET_USER_MAILBOX);
    argv_free(a);
    vstr_free(err);
}

static void test_forward_text_empty(void **state)
{
    argv_t *a = argv_new();
    vstr *err = vstr_new(32);

    (void)state;
    assert_int_equal(forward_text_parse(S(""), a, err), 0);
    assert_int_equal(forward_text_parse(S("# only a comment\n\n   \n"), a, err), 0);
    assert_int_equal(forward_text_parse(S(" , ,\n"), a, err), 0);
    assert_int_equal(forward_text_parse(S("\"\", \"\"\n\"\"\n"), a, err), 0);
    assert_int_equal(a->n, 0);
    argv_free(a);
    vstr_free(err);
}

static void test_forward_text_malformed(void **state)
{
    argv_t *a = argv_new();
    vstr *err = vstr_new(32);
    char *big;
    vstr *many = vstr_new(1024);
    int i;

    (void)state;
    assert_int_equal(forward_text_parse(S("ok\n\"|unterminated\n"), a, err), -1);
    assert_non_null(strstr(vstr_str(err), "line 2"));
    vstr_reset(err);
    assert_int_equal(forward_text_parse("a\0b", 3, a, err), -1);
    assert_non_null(strstr(vstr_str(err), "NUL"));
    big = malloc(LOCAL_FORWARD_MAX_SIZE + 2);
    memset(big, 'a', LOCAL_FORWARD_MAX_SIZE + 1);
    big[LOCAL_FORWARD_MAX_SIZE + 1] = '\0';
    vstr_reset(err);
    assert_int_equal(forward_text_parse(big, LOCAL_FORWARD_MAX_SIZE + 1, a, err), -1);
    free(big);
    for (i = 0; i < LOCAL_MAX_TARGETS + 1; i++)
        vstr_printf(many, "u%d\n", i);
    argv_free(a);
    a = argv_new();
    vstr_reset(err);
    assert_int_equal(forward_text_parse(vstr_str(many), vstr_len(many), a, err), -1);
    assert_non_null(strstr(vstr_str(err), "destinations"));
    vstr_free(many);
    argv_free(a);
    vstr_free(err);
}

static void test_classify_user_mailbox(void **state)
{
    (void)state;
    assert_int_equal(alias_target_classify("\\bob"), TARGET_USER_MAILBOX);
    assert_int_equal(alias_target_classify("\\"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("\\bo b"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("\\../x"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("\\a\\b"), TARGET_INVALID);
}

static int fake_param(vstr *out, const char *name, size_t len)
{
    if (len == 10 && strncmp(name, "myhostname", len) == 0) {
        vstr_puts(out, "mx.example");
        return 0;
    }
    return -1;
}

static void forward_vars_init(struct forward_vars *v, const char *ext)
{
    memset(v, 0, sizeof(*v));
    v->user = "bob";
    v->home = "/home/bob";
    v->shell = "/bin/sh";
    v->local = *ext ? "bob+list" : "bob";
    v->extension = ext;
    v->recipient = *ext ? "bob+list@example.org" : "bob@example.org";
    v->domain = "example.org";
    v->recipient_delimiter = "+";
    v->param = fake_param;
}

static void test_forward_path(void **state)
{
    const char *dflt = "$home/.forward${recipient_delimiter}${extension}";
    struct forward_vars v;
    vstr *out = vstr_new(32);
    vstr *err = vstr_new(32);

    (void)state;
    forward_vars_init(&v, "list");
    assert_int_equal(forward_path_expand(out, dflt, &v, err), 0);
    assert_string_equal(vstr_str(out), "/home/bob/.forward+list");
    assert_int_equal(forward_path_expand(out, "$home/.forward", &v, err), 0);
    assert_string_equal(vstr_str(out), "/home/bob/.forward");
    /* No extension: the element is skipped. */
    forward_vars_init(&v, "");
    assert_int_equal(forward_path_expand(out, dflt, &v, err), 1);
    assert_int_equal(forward_path_expand(out, "/var/fwd/${user}${extension?+$extension}", &v,
                                         err),
                     0);
    assert_string_equal(vstr_str(out), "/var/fwd/bob");
    forward_vars_init(&v, "x");
    assert_int_equal(forward_path_expand(out, "/var/fwd/${user}${extension?+$extension}", &v,
                                         err),
                     0);
    assert_string_equal(vstr_str(out), "/var/fwd/bob+x");
    assert_int_equal(forward_path_expand(out, "/f/${extension:none}", &v, err), 0);
    assert_string_equal(vstr_str(out), "/f/");
    assert_int_equal(forward_path_expand(out, "/f/$myhostname/$$", &v, err), 0);
    assert_string_equal(vstr_str(out), "/f/mx.example/$");
    vstr_free(out);
    vstr_free(err);
}

static void test_forward_path_malformed(void **state)
{
    struct forward_vars v;
    vstr *out = vstr_new(32);
    vstr *err = vstr_new(32);

    (void)state;
    forward_vars_init(&v, "../../etc");
    assert_int_equal(forward_path_expand(out, "$home/.forward+$extension", &v, err), -1);
    forward_vars_init(&v, "a/b");
    assert_int_equal(forward_path_expand(out, "$home/.forward+$extension", &v, err), -1);
    forward_vars_init(&v, "");
    assert_int_equal(forward_path_expand(out, "${home", &v, err), -1);
    assert_int_equal(forward_path_expand(out, "$", &v, err), -1);
    assert_int_equal(forward_path_expand(out, "${}", &v, err), -1);
    assert_int_equal(forward_path_expand(out, "$nosuchname", &v, err), -1);
    assert_int_equal(forward_path_expand(out, "${user?${user?${user?${user?${user?${user?${user?x}}}}}}}",
                                         &v, err),
                     -1);
    vstr_free(out);
    vstr_free(err);
}

static void test_command_split(void **state)
{
    argv_t *a = argv_new();

    (void)state;
    assert_int_equal(command_split("/usr/bin/procmail -a  list\t-d bob", a), 1);
    assert_int_equal(a->n, 5);
    assert_string_equal(a->v[0], "/usr/bin/procmail");
    assert_string_equal(a->v[2], "list");
    assert_string_equal(a->v[4], "bob");
    argv_free(a);
    a = argv_new();
    assert_int_equal(command_split("cat > /tmp/x", a), 0);
    assert_int_equal(command_split("echo $HOME", a), 0);
    assert_int_equal(command_split("a; b", a), 0);
    assert_int_equal(command_split("a `b`", a), 0);
    assert_int_equal(command_split("a 'b c'", a), 0);
    assert_int_equal(command_split("a|b", a), 0);
    assert_int_equal(a->n, 0);
    assert_int_equal(command_split("", a), -1);
    assert_int_equal(command_split("   ", a), -1);
    assert_int_equal(command_split("a\nb", a), -1);
    assert_int_equal(command_split("a\rb", a), -1);
    assert_int_equal(a->n, 0);
    argv_free(a);
}

static const char *fake_getenv(const char *name)
{
    if (strcmp(name, "TZ") == 0)
        return "UTC";
    if (strcmp(name, "PATH") == 0)
        return "/evil";
    if (strcmp(name, "SENDER") == 0)
        return "forged";
    return NULL;
}

static const char *env_get(const argv_t *env, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < env->n; i++)
        if (strncmp(env->v[i], name, n) == 0 && env->v[i][n] == '=')
            return env->v[i] + n + 1;
    return NULL;
}

static void test_command_env(void **state)
{
    struct command_env e = {
        .home = "/home/bob", .logname = "bob", .shell = "/bin/sh",
        .sender = "evil\nINJECTED=1@x", .recipient = "bob+x@example.org", .local = "bob+x",
        .domain = "example.org", .extension = "x", .orig_recipient = NULL,
    };
    argv_t *env = argv_new();
    size_t i;

    (void)state;
    command_env_build(env, &e, "TZ LANG PATH SENDER BAD=X", fake_getenv);
    assert_string_equal(env_get(env, "HOME"), "/home/bob");
    assert_string_equal(env_get(env, "USER"), "bob");
    assert_string_equal(env_get(env, "LOGNAME"), "bob");
    assert_string_equal(env_get(env, "SHELL"), "/bin/sh");
    assert_string_equal(env_get(env, "PATH"), "/usr/bin:/bin");
    assert_string_equal(env_get(env, "SENDER"), "evil_INJECTED=1@x");
    assert_string_equal(env_get(env, "RECIPIENT"), "bob+x@example.org");
    assert_string_equal(env_get(env, "LOCAL"), "bob+x");
    assert_string_equal(env_get(env, "DOMAIN"), "example.org");
    assert_string_equal(env_get(env, "EXTENSION"), "x");
    assert_string_equal(env_get(env, "ORIGINAL_RECIPIENT"), "");
    assert_string_equal(env_get(env, "TZ"), "UTC");
    assert_null(env_get(env, "LANG"));
    assert_null(env_get(env, "INJECTED"));
    assert_null(env_get(env, "BAD"));
    assert_int_equal(env->n, 12);
    for (i = 0; i < env->n; i++)
        assert_null(strchr(env->v[i], '\n'));
    assert_null(env->v[env->n]);
    argv_free(env);
}

static void test_command_result(void **state)
{
    vstr *reason = vstr_new(64);
    const char *dsn = NULL;
    char big[2000];

    (void)state;
    assert_int_equal(command_result(EXITED(0), 0, "procmail", "", 0, reason, &dsn), 0);
    assert_string_equal(dsn, "2.0.0");
    assert_int_equal(command_result(EXITED(75), 0, "procmail", S("try later\n"), reason, &dsn),
                     2);
    assert_string_equal(dsn, "4.3.0");
    assert_non_null(strstr(vstr_str(reason), "status 75"));
    assert_non_null(strstr(vstr_str(reason), "try later"));
    assert_int_equal(command_result(EXITED(71), 0, "x", "", 0, reason, &dsn), 2);
    assert_int_equal(command_result(EXITED(1), 0, "x", S("no\x01such\nuser"), reason, &dsn), 1);
    assert_string_equal(dsn, "5.3.0");
    assert_non_null(strstr(vstr_str(reason), "no?such user"));
    assert_int_equal(command_result(EXITED(67), 0, "x", "", 0, reason, &dsn), 1);
    assert_string_equal(dsn, "5.1.1");
    assert_int_equal(command_result(EXITED(77), 0, "x", "", 0, reason, &dsn), 1);
    assert_string_equal(dsn, "5.7.0");
    assert_int_equal(command_result(EXITED(255), 0, "x", "", 0, reason, &dsn), 1);
    assert_int_equal(command_result(SIGNALED(9), 0, "x", "", 0, reason, &dsn), 2);
    assert_non_null(strstr(vstr_str(reason), "signal 9"));
    assert_int_equal(command_result(SIGNALED(9), 1, "x", "", 0, reason, &dsn), 2);
    assert_non_null(strstr(vstr_str(reason), "time limit"));
    /* Output is bounded in the reason. */
    memset(big, 'o', sizeof(big));
    assert_int_equal(command_result(EXITED(1), 0, "x", big, sizeof(big), reason, &dsn), 1);
    assert_true(vstr_len(reason) < COMMAND_OUTPUT_KEEP + 200);
    vstr_free(reason);
}

static void test_delivered_to(void **state)
{
    vstr *v = vstr_new(16);

    (void)state;
    assert_int_equal(delivered_to_header(S("Delivered-To: Bob@Example.ORG  "), v), 1);
    assert_string_equal(vstr_str(v), "bob@example.org");
    assert_int_equal(delivered_to_header(S("delivered-to:x@y"), v), 1);
    assert_string_equal(vstr_str(v), "x@y");
    assert_int_equal(delivered_to_header(S("Delivered-To:"), v), 1);
    assert_string_equal(vstr_str(v), "");
    assert_int_equal(delivered_to_header(S("X-Delivered-To: a@b"), v), 0);
    assert_int_equal(delivered_to_header(S("Delivered-To a@b"), v), 0);
    assert_int_equal(delivered_to_header(S("Delivered"), v), 0);
    assert_int_equal(delivered_to_header(S(""), v), 0);
    vstr_free(v);
}

static void test_keyword_mask(void **state)
{
    static const char *const names[] = {"alias", "forward", "include", NULL};
    vstr *unknown = vstr_new(16);

    (void)state;
    assert_int_equal(keyword_mask("alias, forward", names, unknown), 3);
    assert_int_equal(keyword_mask("", names, unknown), 0);
    assert_int_equal(keyword_mask("INCLUDE alias", names, unknown), 5);
    assert_int_equal(vstr_len(unknown), 0);
    assert_int_equal(keyword_mask("alias,bogus , other", names, unknown), 1);
    assert_string_equal(vstr_str(unknown), "bogus other");
    vstr_free(unknown);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_text),
        cmocka_unit_test(test_forward_text_empty),
        cmocka_unit_test(test_forward_text_malformed),
        cmocka_unit_test(test_classify_user_mailbox),
        cmocka_unit_test(test_forward_path),
        cmocka_unit_test(test_forward_path_malformed),
        cmocka_unit_test(test_command_split),
        cmocka_unit_test(test_command_env),
        cmocka_unit_test(test_command_result),
        cmocka_unit_test(test_delivered_to),
        cmocka_unit_test(test_keyword_mask),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
