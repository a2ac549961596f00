"""Aggregate figures are read under one rule, wherever a service serves them: `harambee_common.agreements`'s."""

from __future__ import annotations

import typing

from harambee_common.agreements import READ_AGGREGATES, AggregatesRead, AgreementAuthenticator
from harambee_common.permissions import Role, Scope


def _authenticator(function: typing.Callable[..., object]) -> object:
    principal = typing.get_type_hints(function, include_extras=True)["principal"]
    [depends] = principal.__metadata__
    return depends.dependency


def test_assessment_and_monitoring_read_aggregates_with_the_one_shared_authenticator():
    from harambee_assessment import endpoints as assessment
    from harambee_monitoring.indicators import endpoints as monitoring

    shared = AggregatesRead.__metadata__[0].dependency
    readers = [assessment.case_aggregates, monitoring.overview, monitoring.indicator, monitoring.disparity,
               monitoring.counties]
    assert all(_authenticator(reader) is shared for reader in readers)


def test_the_shared_rule_admits_managers_and_national_coordinators_across_tenants_under_an_agreement():
    authenticator = AggregatesRead.__metadata__[0].dependency
    assert isinstance(authenticator, AgreementAuthenticator)
    assert authenticator.operation == READ_AGGREGATES == "read_aggregates"
    assert authenticator.across_tenants == {Role.national_coordinator}
    assert authenticator.scopes == {Scope.aggregates_read}
    assert authenticator.roles == {Role.programme_manager, Role.national_coordinator}
