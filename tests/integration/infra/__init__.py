"""Infrastructure backends (cache, job queue, event bus, rate limits) on both columns."""
