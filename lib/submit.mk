# Header address lists (RFC 5322), used by cleanup for sendmail -t and
# by sendmail -bv.  Owned by the sendmail engineer.
