"""A neutral rich-text document, built once and rendered per ticket system."""
