/* Queue ids: 7 base-32 digits of seconds, 4 of microseconds and 4 of
 * random bits, most significant digit first, in an alphabet whose ASCII
 * order is its numeric order, so ids sort by arrival time.  One process
 * never makes the same time part twice (the clock is bumped by a
 * microsecond when it did not advance), and the random part separates
 * processes that happen to share a microsecond. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "queue_id.h"

static const char id_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

#define SEC_DIGITS 7
#define USEC_DIGITS 4
#define RND_DIGITS 4

static void put_digits(char *out, unsigned long long value, int ndigits)
{
    int i;

    for (i = ndigits - 1; i >= 0; i--) {
        out[i] = id_alphabet[value & 31];
        value >>= 5;
    }
}

/* Value of one id letter, or -1. */
static int digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'V')
        return c - 'A' + 10;
    return -1;
}

static unsigned long long get_digits(const char *in, int ndigits)
{
    unsigned long long value = 0;
    int i;

    for (i = 0; i < ndigits; i++)
        value = (value << 5) | (unsigned) digit_value((unsigned char) in[i]);
    return value;
}

void queue_id_make(char id[QUEUE_ID_LEN + 1], const struct timeval *tv, unsigned rnd)
{
    put_digits(id, (unsigned long long) tv->tv_sec, SEC_DIGITS);
    put_digits(id + SEC_DIGITS, (unsigned long long) tv->tv_usec, USEC_DIGITS);
    put_digits(id + SEC_DIGITS + USEC_DIGITS, rnd, RND_DIGITS);
    id[QUEUE_ID_LEN] = '\0';
}

void queue_id_new(char id[QUEUE_ID_LEN + 1])
{
    static struct timeval last;
    struct timeval now;

    gettimeofday(&now, NULL);
    /* Never reuse (or go back to) a time this process already used. */
    if (now.tv_sec < last.tv_sec || (now.tv_sec == last.tv_sec && now.tv_usec <= last.tv_usec)) {
        now = last;
        if (++now.tv_usec >= 1000000) {
            now.tv_usec = 0;
            now.tv_sec++;
        }
    }
    last = now;
    queue_id_make(id, &now, arc4random_uniform(1U << 20));
}

int queue_id_valid(const char *s)
{
    size_t i;

    if (s == NULL)
        return 0;
    for (i = 0; i < QUEUE_ID_LEN; i++)
        if (digit_value((unsigned char) s[i]) < 0)
            return 0;
    if (s[QUEUE_ID_LEN] != '\0')
        return 0;
    return get_digits(s + SEC_DIGITS, USEC_DIGITS) < 1000000;
}

long long queue_id_time(const char *id)
{
    if (!queue_id_valid(id))
        return -1;
    return (long long) get_digits(id, SEC_DIGITS);
}
