"""The recommendation service: taste profiles now, recommendations on the same data later."""
