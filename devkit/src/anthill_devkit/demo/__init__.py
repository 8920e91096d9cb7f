"""``anthill demo``: the platform's main job on a laptop, from market data to a report."""
