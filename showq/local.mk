# showq: the queue listing daemon (public/showq).
pkglibexec_PROGRAMS += showq/showq
showq_showq_SOURCES = showq/showq.c showq/showq_queue.c showq/showq.h showq/showq_proto.h
showq_showq_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/showq

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_showq
TESTS += tests/unit/test_showq
tests_unit_test_showq_SOURCES = tests/unit/test_showq.c showq/showq_queue.c \
	postqueue/showq_client.c showq/showq.h showq/showq_proto.h
tests_unit_test_showq_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/showq $(CMOCKA_CFLAGS)
tests_unit_test_showq_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
