"""Reading results: statistics over replicates, comparisons of scenarios, the HTML report and the
observed record the model is validated against. Nothing here runs the model."""
