"""Helpers the known detectors share: model pass, rosters, refusal findings, severity."""
