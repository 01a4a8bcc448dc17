# qmgr build rules: the queue manager daemon and its unit tests.
pkglibexec_PROGRAMS += qmgr/qmgr
qmgr_qmgr_SOURCES = qmgr/qmgr.c qmgr/qmgr.h qmgr/qmgr_active.c qmgr/qmgr_deliver.c \
	qmgr/qmgr_scan.c qmgr/qmgr_message.c qmgr/qmgr_message.h qmgr/qmgr_resolve.c \
	qmgr/qmgr_resolve.h qmgr/qmgr_backoff.c qmgr/qmgr_backoff.h qmgr/qmgr_bounce.c \
	qmgr/qmgr_policy.c qmgr/qmgr_policy.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_qmgr_message tests/unit/test_qmgr_resolve \
	tests/unit/test_qmgr_backoff tests/unit/test_qmgr_active tests/unit/test_qmgr_policy
TESTS += tests/unit/test_qmgr_message tests/unit/test_qmgr_resolve \
	tests/unit/test_qmgr_backoff tests/unit/test_qmgr_active tests/unit/test_qmgr_policy
tests_unit_test_qmgr_message_SOURCES = tests/unit/test_qmgr_message.c qmgr/qmgr_message.c
tests_unit_test_qmgr_message_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_qmgr_message_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_qmgr_resolve_SOURCES = tests/unit/test_qmgr_resolve.c qmgr/qmgr_resolve.c
tests_unit_test_qmgr_resolve_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_qmgr_resolve_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_qmgr_backoff_SOURCES = tests/unit/test_qmgr_backoff.c qmgr/qmgr_backoff.c
tests_unit_test_qmgr_backoff_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_qmgr_backoff_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_qmgr_active_SOURCES = tests/unit/test_qmgr_active.c qmgr/qmgr_active.c \
	qmgr/qmgr_deliver.c qmgr/qmgr_scan.c qmgr/qmgr_message.c qmgr/qmgr_resolve.c \
	qmgr/qmgr_backoff.c qmgr/qmgr_bounce.c qmgr/qmgr_policy.c
tests_unit_test_qmgr_active_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_qmgr_active_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_qmgr_policy_SOURCES = tests/unit/test_qmgr_policy.c qmgr/qmgr_policy.c
tests_unit_test_qmgr_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_qmgr_policy_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
