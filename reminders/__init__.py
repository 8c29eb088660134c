"""Calendar-driven reminders: the planner, the rate-limited delivery queue, the scheduler tick."""
