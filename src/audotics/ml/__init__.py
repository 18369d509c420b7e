"""Machine learning: computation over arrays, ids and plain records (no HTTP, no sessions)."""
