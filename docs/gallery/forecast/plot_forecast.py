"""
Revenue forecast and its backtest
=================================

The Monte Carlo forecast of a quarter's bookings (the fan to the quarter's end and the
distribution of the simulated totals against the target), the forecast replayed at past dates,
and the time-to-close curves it rests on.
"""

import salesmkt

ds = salesmkt.load_sample()
forecast = salesmkt.revenue_forecast(ds, as_of="2026-05-15", n_simulations=5000)

# %%
# Booked so far and the P10-P90 / P25-P75 fan to the end of the quarter
salesmkt.plot_forecast_fan(forecast)

# %%
# The quarter's simulated bookings; the hatched bars fall short of the target
salesmkt.plot_forecast_distribution(forecast)

# %%
# The forecast replayed at past dates with only what was known then
salesmkt.plot_backtest(
    salesmkt.forecast_backtest(ds, dates=["2025-10-01", "2026-01-15", "2026-04-15"])
)

# %%
# Share of deals won (solid) or lost (dashed) within t days of creation
salesmkt.plot_win_curve(salesmkt.time_to_close(ds, by="customer_type"), by="customer_type")
