"""Installing and diagnosing: Continue.dev's config, the offline bundle, and ``doctor``'s
health checks."""
