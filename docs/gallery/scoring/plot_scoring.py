"""
Lead score quality and the MQL threshold
========================================

A plain logistic score of the sample company's leads (scored out of fold, five folds), judged
the way any lead score is: its reliability curve, the conversions its best-scored leads hold,
its spread by channel, and the threshold that keeps the MQLs within sales' capacity.
"""

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import salesmkt

ds = salesmkt.load_sample()
leads = ds.leads
numeric = ["web_visits_90d", "content_downloads", "webinars_attended", "email_open_rate"]
model = make_pipeline(
    make_column_transformer(
        (StandardScaler(), numeric),
        (OneHotEncoder(handle_unknown="ignore"), ["channel", "seniority"]),
    ),
    LogisticRegression(max_iter=1000),
)
X = leads[numeric + ["channel", "seniority"]].astype({"channel": object}).fillna("(missing)")
converted = leads["customer_at"].notna().astype(int)
probability = cross_val_predict(model, X, converted, cv=5, method="predict_proba")[:, 1]
scores = pd.DataFrame(
    {
        "lead_id": leads["lead_id"],
        "created_at": leads["created_at"],
        "channel": leads["channel"],
        "converted": converted,
        "probability": probability,
    }
)

# %%
# Reliability: the observed conversion rate of each score decile against its mean score
salesmkt.plot_calibration(salesmkt.calibration_table(converted, probability))

# %%
# Cumulative gain: the share of all customers among the best-scored leads
salesmkt.plot_gain_lift(salesmkt.gain_lift(converted, probability))

# %%
# Lift: each decile's conversion rate as a multiple of the base rate
salesmkt.plot_gain_lift(salesmkt.gain_lift(converted, probability), kind="lift")

# %%
# The score's spread by channel (by persona works the same with a persona column)
salesmkt.plot_score_distribution(scores, by="channel")

# %%
# The MQL threshold that keeps the MQLs within sales' capacity (kpis.yml: sla.sales_capacity)
capacity = salesmkt.load_kpi_config(salesmkt.sample_dir())["sla"]["sales_capacity"]
salesmkt.plot_threshold_tradeoff(
    salesmkt.threshold_tradeoff(scores, capacity=capacity),
    threshold=salesmkt.mql_threshold(scores, capacity=capacity),
)
