"""aiogram routers: read an update, call a service, render a template."""
