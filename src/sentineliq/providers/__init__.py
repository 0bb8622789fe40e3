"""Ticket systems behind one small contract."""
