"""Discrete-event simulation (SimPy) of clinic days under a template.

clinic_model (plain inputs and outputs), durations (real consultation times), random_streams
(common random numbers), clinic (one provider-day), template_days (template -> appointments),
replicate (replications, confidence intervals), scenario, sensitivity, plots, stats. Command line: cli.
"""
