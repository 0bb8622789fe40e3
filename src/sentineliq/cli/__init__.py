"""The `sentineliq` command line: `app.main` is the entry point and the error boundary (its
EXIT_CODES table maps the exception hierarchy to exit codes); one module per command group;
`output` holds the console helpers and `ExitCode`."""
