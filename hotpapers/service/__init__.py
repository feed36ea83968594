"""`hotpapers run`: the scheduler, the publishers and the adapters in one process."""
