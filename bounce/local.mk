# bounce build rules: the delivery status notification daemon and its
# unit tests.
pkglibexec_PROGRAMS += bounce/bounce
bounce_bounce_SOURCES = bounce/bounce.c bounce/bounce.h bounce/bounce_flush.c \
	bounce/bounce_queue.c bounce/bounce_dsn.c bounce/bounce_cleanup.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_status_log tests/unit/test_bounce_dsn
TESTS += tests/unit/test_status_log tests/unit/test_bounce_dsn
tests_unit_test_status_log_SOURCES = tests/unit/test_status_log.c
tests_unit_test_status_log_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_status_log_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_bounce_dsn_SOURCES = tests/unit/test_bounce_dsn.c \
	bounce/bounce_dsn.c bounce/bounce_queue.c bounce/bounce.h
tests_unit_test_bounce_dsn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bounce $(CMOCKA_CFLAGS)
tests_unit_test_bounce_dsn_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
