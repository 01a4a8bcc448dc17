/* The blocking client side of the cleanup protocol (mail_proto.h), for
 * daemons that write a new message: bounce (notifications), pickup
 * (local submissions) and local (forwarded mail).  The client connects
 * with service_connect(CLEANUP_SOCKET, 0), writes its records through the
 * stream, and then reads the outcome here. */
#ifndef POSTHORN_CLEANUP_CLIENT_H
#define POSTHORN_CLEANUP_CLIENT_H
#include "stream.h"
#include "vstr.h"

#define CLEANUP_CLIENT_OK 0         /* queued durably: queue_id is set */
#define CLEANUP_CLIENT_REJECTED 1   /* cleanup refused the message for good (5xx) */
#define CLEANUP_CLIENT_FAILED (-1)  /* anything else: try again later */

/* Flush what the client wrote, then read the announcement and the reply.
 * why (replaced) says what went wrong, in words fit for a log line or a
 * deferral reason: "cannot send to the cleanup service: ...", "no reply
 * from the cleanup service: ...", "cleanup service said: 451 4.3.0 ...". */
int cleanup_client_finish(stream *s, vstr *queue_id, vstr *why);

#endif
