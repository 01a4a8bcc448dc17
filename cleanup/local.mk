# cleanup build rules
pkglibexec_PROGRAMS += cleanup/cleanup
cleanup_cleanup_SOURCES = cleanup/cleanup.c cleanup/cleanup.h cleanup/cleanup_service.c \
	cleanup/cleanup_message.c cleanup/cleanup_headers.c cleanup/cleanup_headers.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_cleanup_headers tests/unit/test_cleanup_message
TESTS += tests/unit/test_cleanup_headers tests/unit/test_cleanup_message
tests_unit_test_cleanup_headers_SOURCES = tests/unit/test_cleanup_headers.c \
	cleanup/cleanup_headers.c cleanup/cleanup_headers.h
tests_unit_test_cleanup_headers_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cleanup $(CMOCKA_CFLAGS)
tests_unit_test_cleanup_headers_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_cleanup_message_SOURCES = tests/unit/test_cleanup_message.c \
	cleanup/cleanup_message.c cleanup/cleanup_headers.c cleanup/cleanup.h cleanup/cleanup_headers.h
tests_unit_test_cleanup_message_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cleanup $(CMOCKA_CFLAGS)
tests_unit_test_cleanup_message_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
