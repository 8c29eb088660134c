"""The 创新积分制 form, its rules and its score, in plain Python (no framework, no database)."""
