"""Enterprises and the values the provincial platform pre-loads for them."""

from __future__ import annotations

from collections.abc import Mapping

from domain.catalog import Catalog
from domain.parsing import parse_value
from storage.codec import encode
from storage.models import Enterprise
from storage.repositories import Store


async def preload(store: Store, catalog: Catalog, answers: Mapping[str, object]) -> Enterprise:
    """Add (or refresh) an enterprise with its pre-loaded answers, by field name.

    Only pre-loaded fields of the catalog are kept; the contact mobile is kept apart too, for
    binding by phone. Raises InputError for an answer that cannot be read.
    """
    values = {}
    for name, raw in answers.items():
        f = catalog.by_name[name]
        parsed = parse_value(f, raw, catalog)
        if parsed is not None:
            values[name] = parsed.value
    code = str(values["credit_code"])
    enterprise = await store.enterprises.by_credit_code(code)
    if enterprise is None:
        enterprise = Enterprise(credit_code=code, status="active")
        store.enterprises.add(enterprise)
    enterprise.name = str(values.get("enterprise_name", code))
    enterprise.region_code = values.get("region_code")  # type: ignore[assignment]
    enterprise.contact_mobile = values.get("contact_mobile")  # type: ignore[assignment]
    enterprise.preloaded = {
        name: encode(catalog.by_name[name], value)
        for name, value in values.items()
        if catalog.by_name[name].prefill
    }
    await store.session.flush()
    return enterprise
