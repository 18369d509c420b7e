"""Search service: full-text, prefix and typo-tolerant search over tracks, artists and albums."""
