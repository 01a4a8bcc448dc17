/* Unit tests for lookup tables: texthash (postmap and aliases syntax),
 * inline, static, hash/btree built with table_db_build and read back
 * (including automatic re-open after a rebuild), and malformed specs. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "table.h"
#include "vstr.h"

static char tmpdir[] = "/tmp/test_table.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static vstr *path;
    FILE *fp;

    if (path == NULL)
        path = vstr_new(64);
    vstr_reset(path);
    vstr_printf(path, "%s/%s", tmpdir, name);
    fp = fopen(vstr_str(path), "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return vstr_str(path);
}

static void expect(table *t, const char *key, const char *want)
{
    vstr *v = vstr_new(16);
    int rc = table_lookup(t, key, v);

    if (want == NULL) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, 1);
        assert_string_equal(vstr_str(v), want);
    }
    vstr_free(v);
}

static const char *aliases_text =
    "# aliases\n"
    "postmaster: root\n"
    "Root:   alice,\n"
    "        bob\n"
    "\"quoted name\" : carol\n"
    "list: :include:/etc/list.txt\n"
    "bad line without colon\n"
    ": novalue\n"
    "postmaster: duplicate\n"
    "pipe: \"|/usr/bin/prog arg\"\n";

static void test_texthash_aliases(void **state)
{
    vstr *spec = vstr_new(64), *err = vstr_new(64);
    const char *path = write_file("aliases", aliases_text);
    table *t;

    vstr_printf(spec, "texthash:%s", path);
    t = table_open(vstr_str(spec), TABLE_ALIASES, err);
    assert_non_null(t);
    assert_string_equal(table_spec(t), vstr_str(spec));
    expect(t, "postmaster", "root");
    expect(t, "POSTMASTER", "root");
    expect(t, "root", "alice, bob");
    expect(t, "quoted name", "carol");
    expect(t, "list", ":include:/etc/list.txt");
    expect(t, "pipe", "\"|/usr/bin/prog arg\"");
    expect(t, "bad", NULL);
    expect(t, "nobody", NULL);
    table_close(t);
    vstr_free(spec);
    vstr_free(err);
}

static void test_texthash_postmap(void **state)
{
    vstr *spec = vstr_new(64), *err = vstr_new(64);
    const char *path = write_file("map", "Example.COM  relay:[mx.example.com]:25\n"
                                         "  continued\n#c\nkeyonly\nb.example\tOK\n");
    table *t;

    vstr_printf(spec, "texthash:%s", path);
    t = table_open(vstr_str(spec), 0, err);
    assert_non_null(t);
    expect(t, "example.com", "relay:[mx.example.com]:25 continued");
    expect(t, "b.example", "OK");
    expect(t, "keyonly", NULL);
    table_close(t);
    vstr_free(spec);
    vstr_free(err);
}

static void test_inline_static(void **state)
{
    vstr *err = vstr_new(64);
    table *t;

    t = table_open("inline:{ Key=value, a = b , { k2 = value with spaces }, x=}", 0, err);
    assert_null(t);     /* "a" has no '=' (spaces outside braces) */
    vstr_reset(err);
    t = table_open("inline:{ Key=value, { k2 = value with spaces, and comma }, x= }", 0, err);
    assert_non_null(t);
    expect(t, "key", "value");
    expect(t, "K2", "value with spaces, and comma");
    expect(t, "x", "");
    expect(t, "value", NULL);
    table_close(t);
    t = table_open("inline:{}", 0, err);
    assert_non_null(t);
    expect(t, "x", NULL);
    table_close(t);

    t = table_open("static:OK", 0, err);
    assert_non_null(t);
    expect(t, "anything", "OK");
    table_close(t);
    t = table_open("static:{ some text }", 0, err);
    assert_non_null(t);
    expect(t, "x", "some text");
    table_close(t);
    vstr_free(err);
}

static void expect_open_error(const char *spec, const char *what)
{
    vstr *err = vstr_new(64);
    table *t = table_open(spec, 0, err);

    assert_null(t);
    if (strstr(vstr_str(err), what) == NULL)
        fail_msg("error for \"%s\" is \"%s\", want \"%s\"", spec, vstr_str(err), what);
    vstr_free(err);
}

static void test_malformed_specs(void **state)
{
    expect_open_error("noType", "expected type:name");
    expect_open_error(":x", "expected type:name");
    expect_open_error("ldap:foo", "unsupported table type \"ldap\"");
    expect_open_error("inline:key=value", "expected inline:{");
    expect_open_error("inline:{ a=b", "expected inline:{");
    expect_open_error("inline:{ a=b, { c=d }", "missing '}'");
    expect_open_error("inline:{ novalue }", "missing '='");
    expect_open_error("inline:{ =x }", "empty key");
    expect_open_error("inline:{ {a=b}c }", "text after '}'");
    expect_open_error("inline:{ a={b }", "");
    expect_open_error("static:{ x", "expected static:{");
    expect_open_error("texthash:", "missing file name");
    expect_open_error("texthash:/nonexistent/file", "/nonexistent/file");
    expect_open_error("hash:/nonexistent/file", "/nonexistent/file.db");
    expect_open_error("btree:", "missing file name");
}

static void test_split(void **state)
{
    vstr *err = vstr_new(64);
    argv_t *a = table_split(" hash:/a,texthash:/b inline:{ a=b, {c = d} },static:x ", err);

    assert_non_null(a);
    assert_int_equal(a->n, 4);
    assert_string_equal(a->v[2], "inline:{ a=b, {c = d} }");
    argv_free(a);
    assert_null(table_split("inline:{ a=b", err));
    assert_non_null(strstr(vstr_str(err), "missing '}'"));
    vstr_free(err);
}

static void test_db_roundtrip(void **state)
{
    static const char *types[] = {"hash", "btree"};
    vstr *spec = vstr_new(64), *err = vstr_new(64), *dbpath = vstr_new(64);

    for (int i = 0; i < 2; i++) {
        vstr *name = vstr_new(16);
        vstr_printf(name, "aliases_%s", types[i]);
        const char *path = write_file(vstr_str(name), aliases_text);
        char *src = strdup(path);
        table *t;

        assert_int_equal(table_db_build(types[i], src, TABLE_ALIASES, err), 0);
        vstr_reset(spec);
        vstr_printf(spec, "%s:%s", types[i], src);
        t = table_open(vstr_str(spec), TABLE_ALIASES, err);
        assert_non_null(t);
        expect(t, "postmaster", "root");     /* first of two duplicates */
        expect(t, "ROOT", "alice, bob");
        expect(t, "list", ":include:/etc/list.txt");
        expect(t, "quoted name", "carol");
        expect(t, "missing", NULL);

        /* rebuild with new content: the open table notices */
        write_file(vstr_str(name), "postmaster: newroot\n");
        assert_int_equal(table_db_build(types[i], src, TABLE_ALIASES, err), 0);
        expect(t, "postmaster", "newroot");
        expect(t, "root", NULL);
        table_close(t);

        /* table_list */
        vstr_reset(spec);
        vstr_printf(spec, "inline:{postmaster=first}, %s:%s static:last", types[i], src);
        table_list *tl = table_list_open(vstr_str(spec), TABLE_ALIASES, err);
        assert_non_null(tl);
        vstr *v = vstr_new(16);
        assert_int_equal(table_list_lookup(tl, "postmaster", v), 1);
        assert_string_equal(vstr_str(v), "first");
        assert_int_equal(table_list_lookup(tl, "other", v), 1);
        assert_string_equal(vstr_str(v), "last");
        vstr_free(v);
        table_list_close(tl);

        /* the temporary file is gone */
        vstr_reset(dbpath);
        vstr_printf(dbpath, "%s.db", src);
        assert_int_equal(access(vstr_str(dbpath), R_OK), 0);
        unlink(vstr_str(dbpath));
        unlink(src);
        free(src);
        vstr_free(name);
    }
    /* wrong type for an existing file, unsupported build type */
    assert_int_equal(table_db_build("texthash", "/x", 0, err), -1);
    assert_int_equal(table_db_build("hash", "/nonexistent/x", 0, err), -1);
    assert_null(table_list_open("static:a, bogus:b", 0, err));
    vstr_free(spec);
    vstr_free(err);
    vstr_free(dbpath);
}

static void test_db_without_nul(void **state)
{
    /* keys written without their NUL (other tools) are found too */
    vstr *spec = vstr_new(64), *err = vstr_new(64);
    const char *path = write_file("plain", "a b\n");
    char *src = strdup(path);
    vstr *cmd = vstr_new(64);

    vstr_printf(cmd, "printf 'key\\nvalue\\n' | db5.3_load -T -t hash %s.db 2>/dev/null", src);
    if (system(vstr_str(cmd)) == 0) {
        vstr_printf(spec, "hash:%s", src);
        table *t = table_open(vstr_str(spec), 0, err);
        assert_non_null(t);
        expect(t, "KEY", "value");
        table_close(t);
        vstr_reset(cmd);
        vstr_printf(cmd, "%s.db", src);
        unlink(vstr_str(cmd));
    }
    unlink(src);
    free(src);
    vstr_free(cmd);
    vstr_free(spec);
    vstr_free(err);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    vstr *cmd = vstr_new(64);
    vstr_printf(cmd, "rm -rf %s", tmpdir);
    int rc = system(vstr_str(cmd));
    vstr_free(cmd);
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_texthash_aliases),
        cmocka_unit_test(test_texthash_postmap),
        cmocka_unit_test(test_inline_static),
        cmocka_unit_test(test_malformed_specs),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_db_roundtrip),
        cmocka_unit_test(test_db_without_nul),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
