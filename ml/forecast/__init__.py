"""Demand forecasts: Prophet against the seasonal-naive baseline, back-tested from rolling origins.

series (regular calendar grids), seasonal_naive, prophet_model, accuracy (MASE, MAPE), backtest,
noshow_counts (daily demand from the Kaggle file), report.
"""
