"""Learned buffers: per service/provider overrun quantiles with credibility shrinkage (estimator).

hangu reads the Hangu service-time file; report compares learned with fixed buffers on it.
"""
