"""The admin panel's pages, one module per page."""
