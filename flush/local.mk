# flush: the fast flush service (public/flush) behind postqueue -i / -s.
pkglibexec_PROGRAMS += flush/flush
flush_flush_SOURCES = flush/flush.c flush/flush.h showq/showq_queue.c showq/showq.h
flush_flush_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/showq -I$(top_srcdir)/flush
