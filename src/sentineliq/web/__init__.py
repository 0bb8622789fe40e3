"""The HTTP service: the JSON API (`web.api`), health and metrics, and the admin panel."""
