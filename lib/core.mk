# Basic data structures, I/O, logging, queue files and IPC.
lib_libposthorn_a_SOURCES += \
	lib/mem.c lib/mem.h lib/vstr.c lib/vstr.h lib/log.c lib/log.h lib/mail_date.c lib/mail_date.h \
	lib/argv.c lib/argv.h lib/stream.c lib/stream.h lib/netbuf.c lib/netbuf.h \
	lib/safe_file.c lib/safe_file.h lib/queue_id.c lib/queue_id.h \
	lib/queue.c lib/queue.h lib/record.c lib/record.h lib/attr.c lib/attr.h \
	lib/config_text.c lib/config_text.h lib/delivery_log.c lib/delivery_log.h \
	lib/deliver_request.c lib/deliver_request.h
