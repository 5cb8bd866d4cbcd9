"""No-show risk: booking-time features, an XGBoost model calibrated on later days, and its storage.

table (AppointmentTable) <- kaggle (CSV importer); history + encoding -> features; model (train,
predict), calibration, metrics, evaluate (train on A, score on B), store (versioned model folders).
"""
