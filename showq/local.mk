# showq: (fragment owned by the showq engineer; empty until the program lands)
