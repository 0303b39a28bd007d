"""The embedded simulated retailer: `simulate` (the order world, its arrivals, stages, exceptions,
contacts and the triage effect, with saved state) configured by `world.toml`; it writes daily
landing files and knows nothing of the store."""
