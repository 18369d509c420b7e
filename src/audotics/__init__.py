"""Audotics: a self-hostable music recommendation platform."""

__version__ = "0.1.0"
