"""The lifecycle of a problem's ticket: one problem, one living ticket. Pure: no I/O.

`fingerprint` recognises repeats, `occurrences` says what a repeat brought, `policy` holds a
provider's lifecycle settings (windows, transition names, storm guard) and `decisions` says what
a comment delivery does with the ticket as the ticket system shows it now.
"""
