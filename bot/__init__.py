"""Telegram wiring: Bot and Dispatcher, middlewares, keyboards, the notifier, templates."""
