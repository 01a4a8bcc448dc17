/* Unit tests for lib/dns.c: MX ordering (preference, shuffle within equal
 * preference), classification of c-ares results, the dns_servers syntax,
 * and real lookups through c-ares against a dnsmasq started on a free
 * loopback port (skipped when dnsmasq is not installed): MX, implicit MX
 * (NODATA), null MX, NXDOMAIN, A/AAAA and a server that never answers. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dns.h"
#include "mem.h"
#include "vstr.h"

static const char *dnsmasq_path;
static pid_t dnsmasq_pid = -1;
static int dnsmasq_port;

/* ---- pure functions ---- */

static unsigned rnd_state;
static unsigned fake_rnd(unsigned bound)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % bound;
}

static void test_mx_sort(void **state)
{
    struct dns_mx mx[6];
    int seen_first[3] = {0, 0, 0};
    const char *names[] = {"c", "a", "b", "z", "y", "x"};
    int prefs[] = {20, 10, 10, 30, 10, 5};
    int round, i;

    for (round = 0; round < 200; round++) {
        for (i = 0; i < 6; i++) {
            mx[i].host = (char *) names[i];
            mx[i].pref = prefs[i];
        }
        rnd_state = (unsigned) round * 7919u + 1;
        dns_mx_sort(mx, 6, round % 2 ? fake_rnd : NULL);
        for (i = 1; i < 6; i++)
            assert_true(mx[i - 1].pref <= mx[i].pref);
        assert_string_equal(mx[0].host, "x");
        assert_string_equal(mx[4].host, "c");
        assert_string_equal(mx[5].host, "z");
        /* The three preference-10 hosts, in some order. */
        for (i = 1; i < 4; i++) {
            assert_int_equal(mx[i].pref, 10);
            if (i == 1)
                seen_first[mx[i].host[0] == 'a' ? 0 : mx[i].host[0] == 'b' ? 1 : 2]++;
        }
    }
    /* Shuffled: each equal-preference host came first sometimes. */
    assert_true(seen_first[0] > 10 && seen_first[1] > 10 && seen_first[2] > 10);
    dns_mx_sort(mx, 0, NULL);
    dns_mx_sort(mx, 1, NULL);
    (void) state;
}

static void test_classify(void **state)
{
    assert_int_equal(dns_classify(ARES_SUCCESS), DNS_OK);
    assert_int_equal(dns_classify(ARES_ENOTFOUND), DNS_NOTFOUND);
    assert_int_equal(dns_classify(ARES_ENODATA), DNS_NODATA);
    assert_int_equal(dns_classify(ARES_EBADNAME), DNS_INVALID);
    assert_int_equal(dns_classify(ARES_ESERVFAIL), DNS_TEMPFAIL);
    assert_int_equal(dns_classify(ARES_ETIMEOUT), DNS_TEMPFAIL);
    assert_int_equal(dns_classify(ARES_EREFUSED), DNS_TEMPFAIL);
    assert_int_equal(dns_classify(ARES_ECONNREFUSED), DNS_TEMPFAIL);
    assert_int_equal(dns_classify(ARES_ECANCELLED), DNS_TEMPFAIL);
    (void) state;
}

static void test_servers_syntax(void **state)
{
    vstr *csv = vstr_new(16), *err = vstr_new(16);

    assert_int_equal(dns_servers_csv("", csv, err), 0);
    assert_string_equal(vstr_str(csv), "");
    assert_int_equal(dns_servers_csv("127.0.0.1, 192.0.2.1:5353 [::1]:54,2001:db8::1", csv,
                                     err), 0);
    assert_string_equal(vstr_str(csv),
                        "127.0.0.1:53,192.0.2.1:5353,[::1]:54,[2001:db8::1]:53");
    assert_int_equal(dns_servers_csv("[::1]", csv, err), 0);
    assert_string_equal(vstr_str(csv), "[::1]:53");
    assert_int_equal(dns_servers_csv("ns.example.com", csv, err), -1);
    assert_int_equal(dns_servers_csv("127.0.0.1:0", csv, err), -1);
    assert_int_equal(dns_servers_csv("127.0.0.1:70000", csv, err), -1);
    assert_int_equal(dns_servers_csv("127.0.0.1:", csv, err), -1);
    assert_int_equal(dns_servers_csv("[::1", csv, err), -1);
    assert_int_equal(dns_servers_csv("[::1]x", csv, err), -1);
    assert_int_equal(dns_servers_csv("[127.0.0.1]:5x", csv, err), -1);
    assert_int_equal(dns_servers_csv("300.1.1.1", csv, err), -1);
    assert_true(vstr_len(err) > 0);
    vstr_free(csv);
    vstr_free(err);
    (void) state;
}

/* ---- lookups against dnsmasq ---- */

static int free_udp_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0
        || getsockname(fd, (struct sockaddr *) &sin, &len) < 0)
        return -1;
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static int start_dnsmasq(void **state)
{
    static const char *candidates[] = {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"};
    char port_opt[32];
    size_t i;
    vstr *err = vstr_new(16), *servers = vstr_new(16);
    struct dns_mx *mx;
    size_t n;
    int tries;

    (void) state;
    for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (access(candidates[i], X_OK) == 0)
            dnsmasq_path = candidates[i];
    if (dnsmasq_path == NULL)
        return 0;
    dnsmasq_port = free_udp_port();
    snprintf(port_opt, sizeof(port_opt), "--port=%d", dnsmasq_port);
    dnsmasq_pid = fork();
    if (dnsmasq_pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(dnsmasq_path, "dnsmasq", "--no-daemon", port_opt, "--listen-address=127.0.0.1",
              "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
              "--pid-file=", "--local=/test/",
              "--mx-host=mx.test,mx1.mx.test,10", "--mx-host=mx.test,mx2.mx.test,10",
              "--mx-host=mx.test,mx0.mx.test,5", "--host-record=mx0.mx.test,127.0.0.3,::1",
              "--host-record=mx1.mx.test,127.0.0.2", "--host-record=v6.test,::2",
              "--host-record=plain.test,127.0.0.9", "--mx-host=null.test,.,0",
              "--server=/fail.test/127.0.0.1#1", (char *) NULL);
        _exit(127);
    }
    vstr_printf(servers, "127.0.0.1:%d", dnsmasq_port);
    if (dns_init(vstr_str(servers), 1500, err) != 0)
        fail_msg("dns_init: %s", vstr_str(err));
    /* Wait until it answers. */
    for (tries = 0; tries < 50; tries++) {
        if (dns_mx_lookup("mx.test", &mx, &n, err) == DNS_OK) {
            dns_mx_free(mx, n);
            break;
        }
        usleep(100000);
    }
    vstr_free(err);
    vstr_free(servers);
    return 0;
}

static int stop_dnsmasq(void **state)
{
    (void) state;
    if (dnsmasq_pid > 0) {
        kill(dnsmasq_pid, SIGTERM);
        waitpid(dnsmasq_pid, NULL, 0);
    }
    dns_shutdown();
    return 0;
}

static void test_lookup_mx(void **state)
{
    struct dns_mx *mx;
    size_t n;
    vstr *why = vstr_new(16);

    (void) state;
    if (dnsmasq_path == NULL)
        skip();
    assert_int_equal(dns_mx_lookup("mx.test", &mx, &n, why), DNS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(mx[0].host, "mx0.mx.test");
    assert_int_equal(mx[0].pref, 5);
    assert_int_equal(mx[1].pref, 10);
    assert_int_equal(mx[2].pref, 10);
    dns_mx_free(mx, n);

    assert_int_equal(dns_mx_lookup("plain.test", &mx, &n, why), DNS_NODATA);
    assert_int_equal(n, 0);
    assert_int_equal(dns_mx_lookup("null.test", &mx, &n, why), DNS_NULLMX);
    assert_non_null(strstr(vstr_str(why), "null MX"));
    assert_int_equal(dns_mx_lookup("nowhere.test", &mx, &n, why), DNS_NOTFOUND);
    assert_non_null(strstr(vstr_str(why), "Host or domain name not found"));
    assert_int_equal(dns_mx_lookup("x.fail.test", &mx, &n, why), DNS_TEMPFAIL);
    assert_int_equal(dns_mx_lookup("bad name.test", &mx, &n, why), DNS_INVALID);
    assert_int_equal(dns_mx_lookup("", &mx, &n, why), DNS_INVALID);
    vstr_free(why);
}

static void test_lookup_addr(void **state)
{
    struct dns_addr *a;
    size_t n;
    vstr *why = vstr_new(16);

    (void) state;
    if (dnsmasq_path == NULL)
        skip();
    assert_int_equal(dns_addr_lookup("mx0.mx.test", DNS_FAMILY_V4 | DNS_FAMILY_V6, &a, &n, why),
                     DNS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(a[0].family, AF_INET6);
    assert_string_equal(a[0].text, "::1");
    assert_int_equal(a[1].family, AF_INET);
    assert_string_equal(a[1].text, "127.0.0.3");
    dns_addr_free(a);
    assert_int_equal(dns_addr_lookup("mx0.mx.test", DNS_FAMILY_V4, &a, &n, why), DNS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].text, "127.0.0.3");
    dns_addr_free(a);
    assert_int_equal(dns_addr_lookup("v6.test", DNS_FAMILY_V4, &a, &n, why), DNS_NODATA);
    assert_int_equal(dns_addr_lookup("v6.test", DNS_FAMILY_V4 | DNS_FAMILY_V6, &a, &n, why),
                     DNS_OK);
    assert_int_equal(n, 1);
    dns_addr_free(a);
    assert_int_equal(dns_addr_lookup("nowhere.test", DNS_FAMILY_V4 | DNS_FAMILY_V6, &a, &n, why),
                     DNS_NOTFOUND);
    assert_int_equal(dns_addr_lookup("y.fail.test", DNS_FAMILY_V4, &a, &n, why), DNS_TEMPFAIL);
    vstr_free(why);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_mx_sort),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_servers_syntax),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(test_lookup_mx),
        cmocka_unit_test(test_lookup_addr),
    };
    int failed = cmocka_run_group_tests(pure, NULL, NULL);

    return failed + cmocka_run_group_tests(live, start_dnsmasq, stop_dnsmasq);
}
