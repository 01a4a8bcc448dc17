/* RFC 5322 date-time text, as in Date: and Received: headers and in
 * delivery status notifications: "Tue, 3 Jun 2025 14:05:09 +0200". */
#include "config.h"
#include <time.h>
#include "mail_date.h"
#include "vstr.h"

void mail_date_format_tm(vstr *out, const struct tm *tm, long gmtoff)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    long off = gmtoff;
    int sign = '+';

    if (off < 0) {
        sign = '-';
        off = -off;
    }
    /* Offsets are whole minutes in every real zone; seconds are dropped. */
    vstr_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
                days[(tm->tm_wday % 7 + 7) % 7], tm->tm_mday, months[(tm->tm_mon % 12 + 12) % 12],
                tm->tm_year + 1900, tm->tm_hour, tm->tm_min, tm->tm_sec, sign,
                (off / 3600) % 100, (off / 60) % 60);
}

void mail_date_format(vstr *out, time_t t)
{
    struct tm tm;

    localtime_r(&t, &tm);
    mail_date_format_tm(out, &tm, tm.tm_gmtoff);
}
