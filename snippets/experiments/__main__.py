"""`python -m snippets.experiments`: run (or load) every experiment the site shows, print the timings."""

from snippets import experiments

for record in experiments.run_all():
    print(f"{record['name']:<22} {'hit ' if record['hit'] else 'miss'} {record['seconds']:8.2f} s")
print(f"total {experiments.last_run_seconds:.1f} s (wall clock)")
