"""Infrastructure: one interface per concern, an embedded and a production backend each.

Nothing here knows about the music domain.
"""
