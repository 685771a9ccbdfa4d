"""Training: schedule, strategies, run directories, the train loop."""
