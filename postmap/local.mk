# postmap: builds, queries, dumps and edits Berkeley DB lookup tables.
sbin_PROGRAMS += postmap/postmap
postmap_postmap_SOURCES = postmap/postmap.c
