# unit tests (lib_server): the event loop.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_event
TESTS += tests/unit/test_event
tests_unit_test_event_SOURCES = tests/unit/test_event.c
tests_unit_test_event_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_event_LDADD = $(LDADD) $(CMOCKA_LIBS)
endif
