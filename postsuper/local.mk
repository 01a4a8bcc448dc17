# postsuper: (fragment owned by the postsuper engineer; empty until the program lands)
