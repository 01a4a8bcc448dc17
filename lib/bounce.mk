# Per-message delivery status logs (bounce/, defer/, trace/), shared by
# qmgr (writer), bounce (reader) and the queue listing.
lib_libposthorn_a_SOURCES += lib/status_log.c lib/status_log.h
