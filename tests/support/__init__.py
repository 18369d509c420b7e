"""Test tooling: real servers on loopback, started and stopped by the suite."""
