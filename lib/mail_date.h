/* RFC 5322 date-time text: "Tue, 3 Jun 2025 14:05:09 +0200". */
#ifndef POSTHORN_MAIL_DATE_H
#define POSTHORN_MAIL_DATE_H
#include <time.h>
#include "vstr.h"

/* tm is the broken-down local time and gmtoff its offset from UTC in
 * seconds; the text is appended to out. */
void mail_date_format_tm(vstr *out, const struct tm *tm, long gmtoff);
/* The same for t in the process's local time zone. */
void mail_date_format(vstr *out, time_t t);

#endif
