"""Use cases shared by the CLI, the API and the panel: they orchestrate the domain, storage and
the providers. One module per use case, imported from there (this package loads nothing itself,
so that importing one use case does not load them all):

- `context`: `AppContext`, the settings, database and secrets every use case runs on;
- `providers`: configure, test and open a workspace's providers (`ProviderConfigError`);
- `backfill`: enable a provider, then queue the deliveries it missed;
- `assignees`: a workspace's email -> account id mappings, and the directory providers read;
- `ingest`: alerts in (parse, normalize, store with their deliveries);
- `passwords`: the password policy;
- `identity/`: users, sign-in and its throttle, sessions, API keys and access (`IdentityService`).
"""
