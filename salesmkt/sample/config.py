"""Constants of the bundled sample company: calendar, personas, channels, campaigns, names.

Private to :mod:`salesmkt.sample`. Every planted number the generator uses lives here, so the
README's "Ground truth planted" section and ``SampleCompany.truth`` can be checked against one
place.
"""

from __future__ import annotations

import numpy as np

DAY = 86_400.0
HOUR = 3_600.0

#: The company's observed window, half-open UTC: [START, END).
START = np.datetime64("2025-01-01", "s").astype(np.int64).item()
END = np.datetime64("2026-07-01", "s").astype(np.int64).item()
#: Orders of customers acquired before 2025 start here (one year of billing history).
ORDERS_FROM = np.datetime64("2024-01-01", "s").astype(np.int64).item()

N_LEADS = 4_600
N_EXISTING_CUSTOMERS = 200
N_ANON_SESSIONS = 13_000
#: Lognormal sigma multiplying the Poisson means of the behavioural counts.
OVERDISPERSION = 0.15

#: Lead volume by month of year (1..12); late December gets LATE_DEC on top.
MONTH_FACTOR = np.array([1.3, 1.25, 1.2, 1.0, 1.0, 0.95, 0.85, 0.55, 1.25, 1.3, 1.05, 0.9])
LATE_DEC = 0.35  # 20-31 December
WEEKEND = 0.3
TREND = 0.2  # volume grows 20 % across the 18 months

INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Professional Services",
    "Education",
)
ROLES = ("IT", "Engineering", "Marketing", "Sales", "Operations", "Finance", "Executive")
SENIORITY = ("Individual Contributor", "Manager", "Director", "VP", "C-Level")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
PRODUCTS = ("Starter", "Professional", "Enterprise", "Analytics Add-on", "Onboarding Services")
OWNERS = tuple(f"O{i:02d}" for i in range(1, 9))
O08_START = np.datetime64("2025-07-01", "s").astype(np.int64).item()

# Persona table. Probabilities are over the vocabularies above, in their order.
# size: median employees, sigma of log; rpe: revenue per employee median; visits/downloads/
# webinars: Poisson means; open: beta(a, b); trial: P(trial user); channels: lead-source mix
# over schema.CHANNELS order (organic_search, paid_search, organic_social, paid_social, email,
# referral, direct, display, events, other); funnel: P(mql), P(sql|mql), P(opp|sql),
# P(won|opp); acv: median annual contract value, sigma; cycle: mean days opportunity->close;
# churn: monthly churn probability; product: P over PRODUCTS[:3]; annual: P(annual billing).
PERSONAS: tuple[dict, ...] = (
    dict(
        key="enterprise_it_buyer",
        name="Enterprise IT Buyer",
        share=0.15,
        size=(4000, 0.45),
        rpe=(220_000, 0.3),
        industry=(0.08, 0.5, 0.22, 0.08, 0.08, 0.03, 0.01),
        role=(0.78, 0.06, 0.0, 0.0, 0.04, 0.1, 0.02),
        seniority=(0.0, 0.12, 0.6, 0.26, 0.02),
        region=(0.5, 0.32, 0.13, 0.05),
        visits=4.0,
        downloads=2.5,
        webinars=3.0,
        open=(7.0, 16.0),
        trial=0.12,
        channels=(0.1, 0.2, 0.0, 0.02, 0.1, 0.14, 0.08, 0.04, 0.32, 0.0),
        funnel=(0.6, 0.62, 0.72, 0.2),
        acv=(62_000, 0.35),
        cycle=110.0,
        churn=0.006,
        product=(0.0, 0.15, 0.85),
        annual=0.9,
    ),
    dict(
        key="startup_founder",
        name="Startup Founder",
        share=0.21,
        size=(14, 0.5),
        rpe=(90_000, 0.3),
        industry=(0.7, 0.04, 0.02, 0.02, 0.08, 0.12, 0.02),
        role=(0.0, 0.06, 0.03, 0.03, 0.02, 0.0, 0.86),
        seniority=(0.0, 0.04, 0.06, 0.08, 0.82),
        region=(0.44, 0.3, 0.16, 0.1),
        visits=12.0,
        downloads=0.6,
        webinars=0.2,
        open=(3.0, 15.0),
        trial=0.72,
        channels=(0.3, 0.1, 0.15, 0.14, 0.02, 0.1, 0.14, 0.0, 0.0, 0.05),
        funnel=(0.5, 0.55, 0.68, 0.24),
        acv=(4_200, 0.4),
        cycle=16.0,
        churn=0.04,
        product=(0.8, 0.2, 0.0),
        annual=0.1,
    ),
    dict(
        key="growth_marketer",
        name="Growth Marketer",
        share=0.29,
        size=(260, 0.45),
        rpe=(150_000, 0.3),
        industry=(0.2, 0.05, 0.05, 0.04, 0.5, 0.14, 0.02),
        role=(0.0, 0.0, 0.86, 0.1, 0.02, 0.0, 0.02),
        seniority=(0.12, 0.7, 0.16, 0.02, 0.0),
        region=(0.42, 0.36, 0.16, 0.06),
        visits=8.0,
        downloads=6.0,
        webinars=1.2,
        open=(10.0, 11.0),
        trial=0.3,
        channels=(0.14, 0.14, 0.1, 0.3, 0.16, 0.02, 0.04, 0.1, 0.0, 0.0),
        funnel=(0.46, 0.46, 0.62, 0.18),
        acv=(15_000, 0.35),
        cycle=42.0,
        churn=0.015,
        product=(0.1, 0.85, 0.05),
        annual=0.35,
    ),
    dict(
        key="operations_manager",
        name="Operations Manager",
        share=0.15,
        size=(700, 0.45),
        rpe=(180_000, 0.3),
        industry=(0.02, 0.04, 0.1, 0.62, 0.16, 0.02, 0.04),
        role=(0.04, 0.0, 0.0, 0.04, 0.84, 0.08, 0.0),
        seniority=(0.04, 0.62, 0.28, 0.06, 0.0),
        region=(0.38, 0.36, 0.18, 0.08),
        visits=2.5,
        downloads=0.8,
        webinars=0.4,
        open=(4.0, 14.0),
        trial=0.1,
        channels=(0.1, 0.26, 0.0, 0.06, 0.1, 0.03, 0.1, 0.24, 0.08, 0.03),
        funnel=(0.32, 0.36, 0.5, 0.13),
        acv=(21_000, 0.4),
        cycle=70.0,
        churn=0.01,
        product=(0.05, 0.7, 0.25),
        annual=0.6,
    ),
    dict(
        key="developer_champion",
        name="Developer Champion",
        share=0.20,
        size=(150, 0.6),
        rpe=(160_000, 0.3),
        industry=(0.72, 0.08, 0.04, 0.04, 0.04, 0.04, 0.04),
        role=(0.1, 0.88, 0.0, 0.0, 0.0, 0.0, 0.02),
        seniority=(0.76, 0.2, 0.03, 0.01, 0.0),
        region=(0.4, 0.3, 0.24, 0.06),
        visits=20.0,
        downloads=0.8,
        webinars=0.3,
        open=(2.0, 18.0),
        trial=0.86,
        channels=(0.38, 0.1, 0.1, 0.04, 0.02, 0.14, 0.17, 0.0, 0.0, 0.05),
        funnel=(0.5, 0.42, 0.6, 0.22),
        acv=(8_500, 0.4),
        cycle=24.0,
        churn=0.025,
        product=(0.4, 0.6, 0.0),
        annual=0.2,
    ),
)

# Channel economics, in schema.CHANNELS order. mql/win: multipliers on P(mql) and
# P(won|opp); acv: multiplier on deal size; churn: multiplier on monthly churn. Costs per
# lead are planted per campaign (CAMPAIGNS); organic search, organic social, referral,
# direct and other have no spend.
CHANNEL_ECON: dict[str, dict] = {
    "organic_search": dict(mql=1.0, win=1.0, acv=1.0, churn=1.0),
    "paid_search": dict(mql=1.2, win=1.1, acv=1.0, churn=1.0),
    "organic_social": dict(mql=0.8, win=0.9, acv=0.9, churn=1.1),
    "paid_social": dict(mql=0.7, win=0.85, acv=0.9, churn=1.3),
    "email": dict(mql=1.0, win=1.0, acv=1.0, churn=1.0),
    "referral": dict(mql=1.3, win=1.5, acv=1.1, churn=0.5),
    "direct": dict(mql=1.1, win=1.0, acv=1.0, churn=1.0),
    "display": dict(mql=0.55, win=0.7, acv=0.9, churn=1.3),
    "events": dict(mql=1.1, win=1.1, acv=1.4, churn=0.8),
    "other": dict(mql=0.8, win=0.9, acv=1.0, churn=1.0),
}

# Campaigns: id, channel, name, type, offer, start, end, planted CPL of the leads it sources
# (None: not a lead source) and fixed daily spend (email tools), source weight in its channel.
CAMPAIGNS: tuple[tuple, ...] = (
    ("C01", "paid_search", "Brand search", "search", "Free trial", "2025-01-01", "2026-06-30", 150.0, 0.0, 0.45),
    ("C02", "paid_search", "Competitor keywords", "search", "Comparison guide", "2025-03-01", "2026-06-30", 320.0, 0.0, 0.25),
    ("C03", "paid_social", "LinkedIn lead-gen: RevOps ebook", "lead_gen_form", "Ebook", "2025-01-01", "2026-06-30", 90.0, 0.0, 0.6),
    ("C04", "paid_social", "Social retargeting", "retargeting", "Free trial", "2025-05-01", "2025-12-31", 70.0, 0.0, 0.4),
    ("C05", "display", "Programmatic display", "awareness", "Webinar invite", "2025-01-01", "2026-06-30", 120.0, 0.0, 0.6),
    ("C06", "display", "Display retargeting", "retargeting", "Demo", "2025-09-01", "2026-03-31", 100.0, 0.0, 0.4),
    ("C07", "events", "Trade show spring 2025", "trade_show", "Booth demo", "2025-03-18", "2025-03-20", 1100.0, 0.0, 1.0),
    ("C08", "events", "Autumn roadshow 2025", "roadshow", "Executive breakfast", "2025-09-23", "2025-10-16", 950.0, 0.0, 1.2),
    ("C09", "events", "Trade show spring 2026", "trade_show", "Booth demo", "2026-03-17", "2026-03-19", 1200.0, 0.0, 1.0),
    ("C10", "email", "Monthly newsletter", "newsletter", "Product news", "2025-01-01", "2026-06-30", 70.0, 0.0, 1.0),
    ("C11", "email", "Trial onboarding sequence", "onboarding", "Setup help", "2025-01-01", "2026-06-30", None, 4.0, 0.0),
    ("C12", "email", "Stalled-lead nurture (holdout test)", "nurture", "Case study + consultation", "2026-02-02", "2026-04-02", None, 45.0, 0.0),
    ("C13", "organic_social", "LinkedIn company page", "content", "Blog posts", "2025-01-01", "2026-06-30", None, 0.0, 0.5),
    ("C14", "referral", "Customer referral program", "referral", "One month free for both", "2025-01-01", "2026-06-30", None, 0.0, 0.8),
    ("C15", "paid_search", "Generic category keywords", "search", "Free trial", "2025-06-01", "2026-06-30", 280.0, 0.0, 0.3),
)  # fmt: skip

#: The holdout experiment on C12.
HOLDOUT = dict(
    campaign_id="C12",
    assigned_at=np.datetime64("2026-02-02T09:00:00", "s").astype(np.int64).item(),
    min_age_days=30,
    window_days=60,
    control_rate=0.05,
    treatment_rate=0.09,
    later_rate=0.02,  # both arms: opportunity 61-140 days after assignment
    emails_days=(0, 7, 14),
    # Pre-period covariate: within each arm, converters are drawn with odds proportional to
    # exp(covariate_effect x z), z = standardised log1p(covariate) over the eligible leads.
    covariate="web_visits_90d",
    covariate_effect=3.0,  # strong enough that CUPED narrows the interval visibly
)

#: Sales and marketing costs beyond the campaigns' spend rows, per month (the KPI catalog's
#: ``other_costs`` setting): (first month, item, monthly amount). Salaries of the sales and
#: marketing team and their tools from the start; the eighth sales owner (O08) from July 2025;
#: a content agency from January 2026.
OTHER_COSTS: tuple[tuple[str, str, float], ...] = (
    ("2025-01", "sales and marketing team (salaries, commissions)", 140_000.0),
    ("2025-01", "tools (CRM, marketing automation, analytics)", 9_000.0),
    ("2025-07", "eighth sales owner (O08)", 13_000.0),
    ("2026-01", "content agency retainer", 8_000.0),
)

#: First-response SLA: target hours and planted lognormal response times.
SLA_HOURS = 4.0
RESPONSE = dict(median_h=1.3, sigma=0.75, no_response=0.015)
BREACH = dict(median_h=6.0, sigma=0.9, no_response=0.08)
BREACH_MONTHS = ("2025-08", "2025-12")

FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Deepak", "Elena", "Felix", "Grace", "Hiro", "Ines", "Jonas",
    "Kara", "Liam", "Maya", "Nikolai", "Olivia", "Pavel", "Quinn", "Rosa", "Samir", "Tess",
    "Uma", "Victor", "Wen", "Xavier", "Yara", "Zane", "Amara", "Bruno", "Chloe", "Diego",
    "Emma", "Farid", "Greta", "Hugo", "Isla", "Jamal", "Keiko", "Lars", "Mina", "Noah",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hartmann",
    "Ito", "Jensen", "Kowalski", "Laurent", "Moreau", "Nakamura", "Okafor", "Patel",
    "Quintero", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Yilmaz",
    "Zhang", "Andersen", "Brennan", "Costa", "Da Silva", "Evans", "Ferrari", "Gupta",
    "Horvat", "Ivanova", "Jovanovic", "Kim", "Lindqvist", "Mensah", "Novak",
)  # fmt: skip
DOMAIN_WORDS = (
    "acme", "blue", "cedar", "delta", "ember", "fjord", "granite", "harbor", "iris", "juniper",
    "kite", "lumen", "maple", "nova", "orbit", "pine", "quartz", "river", "summit", "tidal",
)  # fmt: skip
DOMAIN_SUFFIX = ("labs", "works", "systems", "group", "soft", "data", "logistics", "health")
