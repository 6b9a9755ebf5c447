"""The evidence library: partner-safe evaluation results from many councils and years,
pooled by programme type, and published as a static site."""
