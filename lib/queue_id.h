/* Queue ids: microsecond time plus random bits, in a 32-letter alphabet
 * whose ASCII order is numeric order, so ids sort by arrival time, are
 * unique without knowing where the file lives (never the inode), and are
 * safe as file names.  Layout: 7 letters seconds, 4 letters microseconds,
 * 4 letters random = 15 letters from [0-9A-V]. */
#ifndef POSTHORN_QUEUE_ID_H
#define POSTHORN_QUEUE_ID_H
#include <sys/time.h>

#define QUEUE_ID_LEN 15

void queue_id_new(char id[QUEUE_ID_LEN + 1]);
/* From a given time and random value (tests). */
void queue_id_make(char id[QUEUE_ID_LEN + 1], const struct timeval *tv, unsigned rnd);
int queue_id_valid(const char *s);
/* Arrival time encoded in an id, or -1 when invalid. */
long long queue_id_time(const char *id);

#endif
