"""Playlist service: manual and generated playlists, their ordered entries and collaborators."""
