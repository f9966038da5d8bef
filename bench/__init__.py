"""Benchmarks of ThiĐua bot at the scale of a large province: `python -m bench.run`."""
