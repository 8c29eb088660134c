"""Use cases: what people do with the form, independent of Telegram and of the database engine."""
