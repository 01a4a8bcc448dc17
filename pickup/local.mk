# pickup: the daemon that feeds maildrop/ files to cleanup.
pkglibexec_PROGRAMS += pickup/pickup
pickup_pickup_SOURCES = pickup/pickup.c pickup/pickup.h pickup/pickup_file.c
