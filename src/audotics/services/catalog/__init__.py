"""Catalog service: artists, albums, tracks, genres, audio files and audio features."""
