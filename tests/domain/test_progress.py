"""How far along a form is (`domain.form.progress`): counted in sets, as the plain reading of
the rule counts field by field."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalog import Catalog
from domain.form import FormState, Step, progress


def _field_by_field(catalog: Catalog, state: FormState) -> tuple[int, int, list[str]]:
    """Done, total and the required fields missing, one field at a time: a field that follows
    a skipped one (not answered) does not count."""
    done, total, missing = 0, 0, []
    for f in catalog.fields:
        if f.follows and f.follows not in state.values and f.follows in state.skipped:
            continue
        total += 1
        done += state.settled(f)
        if (f.required or f.required_with) and f.name not in state.values:
            missing.append(f.name)
    return done, total, missing


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_progress_counts_as_field_by_field(catalog: Catalog, data: st.DataObject) -> None:
    names = [*sorted(catalog.by_name), "not_a_field"]
    some = st.frozensets(st.sampled_from(names))
    answered = data.draw(some, label="answered")
    state = FormState(
        values=dict.fromkeys(answered, "x"),
        skipped=data.draw(some, label="skipped"),
        unconfirmed=data.draw(some, label="unconfirmed"),
    )
    got = progress(catalog, state, Step("field", section=catalog.fields[0].section))
    assert (got.done, got.total, got.missing_required) == _field_by_field(catalog, state)


def test_a_list_that_follows_a_skipped_question_leaves_the_count(catalog: Catalog) -> None:
    name, follows = catalog.followers[0]
    start = Step("field", section=catalog.fields[0].section)
    before = progress(catalog, FormState(values={}), start)
    after = progress(catalog, FormState(values={}, skipped=frozenset({follows})), start)
    assert after.total == before.total - sum(1 for _, f in catalog.followers if f == follows)
    assert name not in after.missing_required
