# postqueue: (fragment owned by the postqueue engineer; empty until the program lands)
