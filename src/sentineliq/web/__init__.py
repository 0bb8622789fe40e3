"""The HTTP service: the JSON API (`web.api`), health and metrics, and the admin panel.

`web.app.create_app(context)` builds the application; `web.server` serves it from a thread.
Errors a route lets through are answered by the API's table (`web.api.problems.PROBLEM_TYPES`)
or the panel's (`web.admin.errors.PAGES`), chosen by path in `web.app`. Nothing is imported
here, so loading one route module does not load the whole service.
"""
