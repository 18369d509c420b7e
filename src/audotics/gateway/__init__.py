"""API gateway concerns: errors, auth, authorization, rate limits, caching, request ids."""
