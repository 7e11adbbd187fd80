"""BKD's approval service: the supervisor's validation queue and decisions on activity entries."""
