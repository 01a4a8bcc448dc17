# postdrop: (fragment owned by the postdrop engineer; empty until the program lands)
