"""Vendor exports onto the canonical tables: HubSpot, Salesforce, GA4, or any file via a mapping.

:func:`read_source` is what ``salesmkt.load(path, source=...)`` calls (see
:mod:`salesmkt.sources.convert`); one module per vendor, and :mod:`~salesmkt.sources.mapping`
for any CSV or Excel export through a YAML column mapping.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "SOURCES": "convert",
        "convert_export": "convert",
        "read_source": "convert",
        "ga4_tables": "ga4",
        "load_mapping": "mapping",
        "mapping_template": "mapping_templates",
        "write_mapping_template": "mapping_templates",
    },
)
