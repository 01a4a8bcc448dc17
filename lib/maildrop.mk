# Maildrop files: the format postdrop writes and pickup and showq read.
# Owned by the postdrop/pickup engineer.
