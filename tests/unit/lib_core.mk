# unit tests (lib_core): strings, streams, buffers, queue ids and paths,
# records and the attribute codec.
if HAVE_CMOCKA
lib_core_tests = tests/unit/test_vstr tests/unit/test_stream tests/unit/test_netbuf \
	tests/unit/test_queue_id tests/unit/test_record tests/unit/test_attr \
	tests/unit/test_config_text tests/unit/test_delivery_log tests/unit/test_deliver_request
check_PROGRAMS += $(lib_core_tests)
TESTS += $(lib_core_tests)
tests_unit_test_vstr_SOURCES = tests/unit/test_vstr.c
tests_unit_test_vstr_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_vstr_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_stream_SOURCES = tests/unit/test_stream.c
tests_unit_test_stream_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_stream_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_netbuf_SOURCES = tests/unit/test_netbuf.c
tests_unit_test_netbuf_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_netbuf_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_queue_id_SOURCES = tests/unit/test_queue_id.c
tests_unit_test_queue_id_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_queue_id_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_record_SOURCES = tests/unit/test_record.c
tests_unit_test_record_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_record_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_attr_SOURCES = tests/unit/test_attr.c
tests_unit_test_attr_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_attr_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_config_text_SOURCES = tests/unit/test_config_text.c
tests_unit_test_config_text_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_text_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_delivery_log_SOURCES = tests/unit/test_delivery_log.c
tests_unit_test_delivery_log_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_delivery_log_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_deliver_request_SOURCES = tests/unit/test_deliver_request.c
tests_unit_test_deliver_request_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_deliver_request_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
