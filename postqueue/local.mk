# postqueue: queue listing and flush requests for any local user
# (set-group-id setgid_group when installed).
sbin_PROGRAMS += postqueue/postqueue
postqueue_postqueue_SOURCES = postqueue/postqueue.c postqueue/showq_client.c \
	postqueue/postqueue_format.c showq/showq_proto.h flush/flush.h
postqueue_postqueue_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/showq -I$(top_srcdir)/flush

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_postqueue
TESTS += tests/unit/test_postqueue
tests_unit_test_postqueue_SOURCES = tests/unit/test_postqueue.c postqueue/showq_client.c \
	postqueue/postqueue_format.c showq/showq_proto.h flush/flush.h
tests_unit_test_postqueue_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/showq -I$(top_srcdir)/flush \
	$(CMOCKA_CFLAGS)
tests_unit_test_postqueue_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
