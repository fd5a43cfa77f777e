"""Running the model: the one run function, experiments and batches over replicates, worker
processes, progress bars and the results store on disk. Nothing here changes a run's results."""
