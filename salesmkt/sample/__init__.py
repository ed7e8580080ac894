"""The bundled sample company: a seeded, synthetic B2B SaaS business and its ground truth.

:func:`generate` draws every canonical table (:mod:`~salesmkt.sample.company`); the other
modules hold its constants (:mod:`~salesmkt.sample.config`), the draws of leads, revenue and web
activity, and the ground truth planted in them (:mod:`~salesmkt.sample.truth`).
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "SampleCompany": "company",
        "generate": "company",
        "main": "company",
        "write": "company",
    },
)
