"""BKD's performance service: daily activity entries, validated against the duties of the
employee's position on that day."""
