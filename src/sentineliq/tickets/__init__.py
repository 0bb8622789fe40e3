"""From alert to ticket draft: what a ticket says, independent of the ticket system."""
