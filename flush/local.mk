# flush: (fragment owned by the flush engineer; empty until the program lands)
