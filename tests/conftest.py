"""Shared fixtures: temporary vaults and inboxes, a local web server, isolated config dirs."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# "default" runs in the normal suite; "fuzz" is the long campaign (nox -s fuzz);
# HYPOTHESIS_PROFILE picks one, as attrs and packaging do.
settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
