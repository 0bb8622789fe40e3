"""Use cases shared by the CLI and (later) the HTTP API: they orchestrate domain and storage."""
