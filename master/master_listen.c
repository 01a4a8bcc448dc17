/* Listening endpoints of master.cf services: TCP sockets for inet
 * services (on the address in the service name, or on every
 * inet_interfaces address), UNIX sockets in private/ or public/ and FIFOs
 * for trigger services.  Listeners are non-blocking: several children of
 * one service may race to accept the same connection. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "master.h"
#include "mem.h"
#include "params.h"
#include "vstr.h"

#define LISTEN_BACKLOG 1024

/* Split an inet service name into hosts and port: "host:port",
 * "[v6addr]:port" or a bare "port" (then every inet_interfaces address;
 * an empty host means the wildcard addresses). */
int master_inet_addresses(const char *name, argv_t *hosts, vstr *port, vstr *err)
{
    const char *colon = strrchr(name, ':');

    if (colon != NULL) {
        const char *h = name;
        size_t hlen = (size_t) (colon - name);

        if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
            h++;
            hlen -= 2;
        }
        if (hlen == 0 || colon[1] == 0) {
            vstr_printf(err, "bad inet service name \"%s\": expected host:port", name);
            return -1;
        }
        argv_addn(hosts, h, hlen);
        vstr_set(port, colon + 1);
        return 0;
    }
    vstr_set(port, name);
    {
        argv_t *ifs = argv_split(config_str("inet_interfaces"), LIST_DELIMS);
        size_t i;

        for (i = 0; i < ifs->n; i++) {
            if (strcmp(ifs->v[i], "all") == 0) {
                argv_add(hosts, "");
            } else if (strcmp(ifs->v[i], "loopback-only") == 0) {
                argv_add(hosts, "127.0.0.1");
                argv_add(hosts, "::1");
            } else {
                const char *h = ifs->v[i];
                size_t len = strlen(h);

                if (len >= 2 && h[0] == '[' && h[len - 1] == ']')
                    argv_addn(hosts, h + 1, len - 2);
                else
                    argv_add(hosts, h);
            }
        }
        if (ifs->n == 0)
            argv_add(hosts, "");
        argv_free(ifs);
    }
    return 0;
}

/* Well-known names, for systems without them in /etc/services. */
static const char *port_number(const char *port)
{
    if (strcmp(port, "smtp") == 0)
        return "25";
    if (strcmp(port, "submission") == 0)
        return "587";
    if (strcmp(port, "submissions") == 0 || strcmp(port, "smtps") == 0)
        return "465";
    return port;
}

static int protocol_enabled(int family)
{
    argv_t *p = argv_split(config_str("inet_protocols"), LIST_DELIMS);
    int ok = 0;
    size_t i;

    for (i = 0; i < p->n; i++) {
        if (strcmp(p->v[i], "all") == 0
            || (family == AF_INET && strcmp(p->v[i], "ipv4") == 0)
            || (family == AF_INET6 && strcmp(p->v[i], "ipv6") == 0))
            ok = 1;
    }
    argv_free(p);
    return ok;
}

static void fds_add(struct master_svc *svc, int fd)
{
    svc->listen_fds = xreallocarray(svc->listen_fds, svc->listen_count + 1, sizeof(int));
    svc->listen_fds[svc->listen_count++] = fd;
}

static int inet_open(struct master_svc *svc, vstr *err)
{
    argv_t *hosts = argv_new();
    vstr *port = vstr_new(16);
    size_t i;
    int ret = 0;

    if (master_inet_addresses(svc->name, hosts, port, err) < 0) {
        ret = -1;
        goto done;
    }
    for (i = 0; i < hosts->n && ret == 0; i++) {
        struct addrinfo hints, *res, *ai;
        const char *host = *hosts->v[i] ? hosts->v[i] : NULL;
        int gai;

        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        gai = getaddrinfo(host, port_number(vstr_str(port)), &hints, &res);
        if (gai != 0) {
            vstr_printf(err, "service %s: address %s port %s: %s", svc->name,
                        host ? host : "*", vstr_str(port), gai_strerror(gai));
            ret = -1;
            break;
        }
        for (ai = res; ai != NULL; ai = ai->ai_next) {
            int one = 1;
            int fd;
            char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];

            if (!protocol_enabled(ai->ai_family))
                continue;
            fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                /* A wildcard for a protocol the kernel lacks is no error. */
                if (host == NULL && errno == EAFNOSUPPORT)
                    continue;
                vstr_printf(err, "socket: %s", strerror(errno));
                ret = -1;
                break;
            }
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (ai->ai_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
                int saved = errno;

                close(fd);
                if (host == NULL && ai->ai_family == AF_INET6 && saved == EADDRNOTAVAIL)
                    continue;
                if (getnameinfo(ai->ai_addr, ai->ai_addrlen, hbuf, sizeof(hbuf), pbuf,
                                sizeof(pbuf), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
                    strcpy(hbuf, "?");
                    strcpy(pbuf, "?");
                }
                vstr_printf(err, "service %s: bind %s port %s: %s", svc->name, hbuf, pbuf,
                            strerror(saved));
                ret = -1;
                break;
            }
            fds_add(svc, fd);
        }
        freeaddrinfo(res);
    }
    if (ret == 0 && svc->listen_count == 0) {
        vstr_printf(err, "service %s: no address to listen on", svc->name);
        ret = -1;
    }
done:
    argv_free(hosts);
    vstr_free(port);
    return ret;
}

static int unix_open(struct master_svc *svc, vstr *err)
{
    struct sockaddr_un sun;
    int fd;
    mode_t mode = svc->private_ ? 0600 : 0666;

    if (strlen(svc->path) >= sizeof(sun.sun_path)) {
        vstr_printf(err, "socket name too long: %s", svc->path);
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, svc->path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        vstr_printf(err, "socket: %s", strerror(errno));
        return -1;
    }
    if (unlink(svc->path) < 0 && errno != ENOENT) {
        vstr_printf(err, "remove old %s: %s", svc->path, strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
        || chmod(svc->path, mode) < 0
        || chown(svc->path, master_owner_uid, master_owner_gid) < 0
        || listen(fd, LISTEN_BACKLOG) < 0) {
        vstr_printf(err, "service %s: socket %s: %s", svc->name, svc->path, strerror(errno));
        close(fd);
        return -1;
    }
    fds_add(svc, fd);
    return 0;
}

static int fifo_open(struct master_svc *svc, vstr *err)
{
    mode_t mode = svc->private_ ? 0600 : 0622;
    struct stat st;
    int fd;

    if (lstat(svc->path, &st) == 0 && !S_ISFIFO(st.st_mode) && unlink(svc->path) < 0) {
        vstr_printf(err, "remove %s: %s", svc->path, strerror(errno));
        return -1;
    }
    if (mkfifo(svc->path, mode) < 0 && errno != EEXIST) {
        vstr_printf(err, "mkfifo %s: %s", svc->path, strerror(errno));
        return -1;
    }
    /* Read-write, so the FIFO never reports end of file to the child. */
    fd = open(svc->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fchmod(fd, mode) < 0 || fchown(fd, master_owner_uid, master_owner_gid) < 0) {
        vstr_printf(err, "service %s: fifo %s: %s", svc->name, svc->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fds_add(svc, fd);
    return 0;
}

int master_listen_open(struct master_svc *svc, vstr *err)
{
    if (strcmp(svc->type, "inet") == 0)
        return inet_open(svc, err);
    if (strcmp(svc->type, "unix") == 0)
        return unix_open(svc, err);
    if (strcmp(svc->type, "fifo") == 0)
        return fifo_open(svc, err);
    vstr_printf(err, "service %s: unknown type %s", svc->name, svc->type);
    return -1;
}

void master_listen_close(struct master_svc *svc)
{
    int i;

    for (i = 0; i < svc->listen_count; i++) {
        event_del(svc->listen_fds[i]);
        close(svc->listen_fds[i]);
    }
    xfree(svc->listen_fds);
    svc->listen_count = 0;
    svc->listening = 0;
}
