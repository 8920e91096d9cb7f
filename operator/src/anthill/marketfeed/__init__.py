"""MarketFeed -> CronJob: the desired children (pure), what a run reported (pure), the reconciler."""
