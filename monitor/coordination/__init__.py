"""Several workers, one detection cycle: the lease that elects who runs the scheduled passes."""
