"""Audio: synthesis of demo material now; decoding and feature extraction (content analysis)."""
