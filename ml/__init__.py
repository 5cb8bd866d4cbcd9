"""Learning and planning: no-show risk, learned buffers, demand forecasts, schedule optimisation and simulation.

Heavy dependencies (numpy, pandas, xgboost, prophet, ortools, simpy, matplotlib) come from the
`[ml]` extra and are imported inside the functions that need them, so the core service stays light.
"""
