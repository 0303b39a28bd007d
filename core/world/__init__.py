"""The embedded simulated retailer, configured by `world.toml`; it writes daily landing files and
knows nothing of the store. `simulate` holds `World`, which coordinates one day, and
`simulate_to_dir`; the parts it coordinates are `arrivals` (new orders), `stages` (the stage
machine) with `dwell`, `capacity` (warehouse/carrier slots and backlog) and `exceptions`
(exceptions, cancellations, silent stalls), `contacts`, `feedback` (shown ETAs and the triage
effect) and `state_file` (save and resume); `config`, `tables`, `timeline`, `orders` and `feed`
hold the settings, the precomputed lookups, world time, the open-order columns and the feed;
`defects` adds a real feed's late, re-sent and malformed rows to the landing files (never to the
world's history)."""
