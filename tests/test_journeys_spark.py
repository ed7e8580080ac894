"""Journeys, path counts and attribution on PySpark (local mode) equal the pandas path.

Spark has no ordered string aggregation, so paths are assembled from a sorted array of
structs there: this checks that formulation end to end. Skipped only when Java is missing.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from test_journeys_engine import same_credit, same_journeys, same_paths

from salesmkt.campaigns._engine import WITHOUT_PERSON
from salesmkt.campaigns.attribution import attribute
from salesmkt.campaigns.journeys import build_journeys, customer_conversions, path_counts

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")


def test_sample_company_identical_on_spark(spark_con, sample):
    conv = customer_conversions(sample.leads, sample.deals)
    # two conversions without a person id: in no journey, counted on Spark as in memory
    conv = pd.concat([conv, conv.head(2).assign(person_id=pd.NA)], ignore_index=True)
    tp = sample.touchpoints[["person_id", "ts", "channel", "campaign_id"]].copy()
    for col in ("person_id", "channel", "campaign_id"):  # Spark reads None, not pd.NA
        tp[col] = tp[col].astype(object).where(tp[col].notna(), None)
    spark_con._session.createDataFrame(tp).createOrReplaceTempView("touchpoints")
    table = spark_con.table("touchpoints")
    je = build_journeys(table, conv)
    jp = build_journeys(sample.touchpoints, conv)
    same_journeys(je.to_pandas(), jp)
    same_paths(path_counts(je), path_counts(jp))
    same_credit(attribute(je), attribute(jp))
    assert jp.attrs[WITHOUT_PERSON] == path_counts(je).attrs[WITHOUT_PERSON] == 2
    # a shorter window and campaigns: placeholders, ties of missing campaigns
    je = build_journeys(table, conv, lookback_days=7, start="2025-01-01")
    jp = build_journeys(sample.touchpoints, conv, lookback_days=7, start="2025-01-01")
    same_credit(
        attribute(je, by="campaign_id", models=["linear", "markov", "shapley"]),
        attribute(jp, by="campaign_id", models=["linear", "markov", "shapley"]),
        by="campaign_id",
    )
    assert isinstance(path_counts(je), pd.DataFrame)
    assert path_counts(je).attrs[WITHOUT_PERSON] == jp.attrs[WITHOUT_PERSON]
