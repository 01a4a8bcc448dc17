/* Address and domain match lists, as in mynetworks, mydestination and
 * relay_domains: patterns separated by commas/whitespace, "!pattern"
 * negation, the first match wins, "/file/name" includes a file of patterns,
 * and "type:table" looks the item up in a table.
 *   address lists: 1.2.3.4, 10.0.0.0/8, [::1], [2001:db8::]/32
 *   domain lists:  example.com (exact), .example.com (subdomains),
 *                  example.com also matching subdomains when
 *                  parent_domain_matches_subdomains names the list. */
#ifndef POSTHORN_MATCH_LIST_H
#define POSTHORN_MATCH_LIST_H
#include "vstr.h"

typedef struct match_list match_list;

match_list *match_list_addr(const char *spec, vstr *err);
/* parent_matches: a bare "example.com" also matches "sub.example.com". */
match_list *match_list_domain(const char *spec, int parent_matches, vstr *err);
/* 1 match, 0 no match.  addr is numeric ("192.0.2.1", "::1"). */
int match_list_match_addr(const match_list *l, const char *addr);
int match_list_match_domain(const match_list *l, const char *domain);
void match_list_free(match_list *l);

#endif
