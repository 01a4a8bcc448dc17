/* The Postfix-shaped per-recipient status line (delivery_log.h), written
 * once for qmgr, local(8) and smtp(8). */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "delivery_log.h"
#include "log.h"
#include "mail_addr.h"

#define LOG_ADDR_MAX 300
#define LOG_REASON_MAX 1000

void delay_format(vstr *out, double seconds)
{
    /* Two significant digits below 10 s ("%g" drops trailing zeros). */
    if (!(seconds >= 0.01))
        vstr_putc(out, '0');
    else if (seconds < 9.95)
        vstr_printf(out, "%.2g", seconds);
    else if (seconds < 1e12)
        vstr_printf(out, "%.0f", seconds);
    else
        vstr_puts(out, "999999999999");
}

const char *orcpt_differs(const char *orcpt, const char *rcpt)
{
    const char *semi;

    if (orcpt == NULL)
        return NULL;
    if (strncasecmp(orcpt, "rfc822;", 7) == 0)
        orcpt += 7;
    else if ((semi = strchr(orcpt, ';')) != NULL)
        orcpt = semi + 1;
    if (*orcpt == '\0' || strcasecmp(orcpt, rcpt) == 0)
        return NULL;
    return orcpt;
}

/* An address for the log: valid UTF-8 (SMTPUTF8 mail) is kept as it is,
 * control characters replaced; anything else goes through log_printable. */
static void put_addr(vstr *out, const char *addr)
{
    char buf[LOG_ADDR_MAX];
    size_t len = strlen(addr), i;

    if (!has_8bit(addr, len) || !utf8_valid(addr, len) || len >= sizeof(buf)) {
        vstr_puts(out, log_printable(buf, sizeof(buf), addr, len));
        return;
    }
    for (i = 0; i < len; i++)
        vstr_putc(out, (unsigned char) addr[i] < 0x20 || addr[i] == 0x7f ? '?' : addr[i]);
}

void delivery_log_format(vstr *out, const struct delivery_log *l)
{
    char buf[LOG_REASON_MAX];
    const char *orig = orcpt_differs(l->orcpt, l->rcpt);
    int i;

    vstr_printf(out, "%s: to=<", l->queue_id);
    put_addr(out, l->rcpt);
    vstr_puts(out, ">, ");
    if (orig != NULL) {
        vstr_puts(out, "orig_to=<");
        put_addr(out, orig);
        vstr_puts(out, ">, ");
    }
    vstr_printf(out, "relay=%s, ", log_printable(buf, sizeof(buf), l->relay, strlen(l->relay)));
    if (l->conn_use > 1)
        vstr_printf(out, "conn_use=%d, ", l->conn_use);
    vstr_puts(out, "delay=");
    delay_format(out, l->delay);
    vstr_puts(out, ", delays=");
    for (i = 0; i < 4; i++) {
        if (i > 0)
            vstr_putc(out, '/');
        delay_format(out, l->delays[i]);
    }
    vstr_printf(out, ", dsn=%s, status=%s (%s)", l->dsn, l->status,
                log_printable(buf, sizeof(buf), l->reason, strlen(l->reason)));
}

void delivery_log_status(const struct delivery_log *l)
{
    vstr *line = vstr_new(256);

    delivery_log_format(line, l);
    msg_info("%s", vstr_str(line));
    vstr_free(line);
}
