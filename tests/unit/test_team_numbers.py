"""Team numbers: every spelling of one number is one canonical string; the trunk is never a member's endpoint."""

import pytest

from teamfoned.domain.errors import Invalid
from teamfoned.domain.names import canonical_number
from teamfoned.domain.phones import PhoneRejected, check_endpoint_name, trunk_endpoints


@pytest.mark.parametrize("spelling", ["+31207654321", "0031207654321", "31207654321",
                                      "+31 20 765 4321", "+31 (20) 765-4321", 31207654321])
def test_every_spelling_is_one_number(spelling):
    assert canonical_number(spelling) == "+31207654321"


def test_a_national_number_is_read_in_the_default_region_only():
    assert canonical_number("020 765 4321", default_region="NL") == "+31207654321"
    with pytest.raises(Invalid, match="national format"):
        canonical_number("0207654321")


@pytest.mark.parametrize("bad", ["", "+", "00", "+0123", "12ab", "+31,1", "+3120765432100000",
                                 "\u0663\u0661\u0662", "+3\n1", True, None, 3.5])
def test_anything_else_is_refused(bad):
    with pytest.raises(Invalid):
        canonical_number(bad)


@pytest.mark.parametrize(("template", "refused"), [
    ("PJSIP/{number}@trunk", {"trunk", "TRUNK"}),
    ("PJSIP/carrier-1/sip:{number}@10.0.0.1:5060", {"carrier-1"}),
])
def test_the_trunk_endpoint_is_never_assignable(template, refused):
    assert {name.lower() for name in refused} <= trunk_endpoints(template)
    for name in refused:
        with pytest.raises(PhoneRejected, match="trunk"):
            check_endpoint_name(name, trunk_template=template)
    assert check_endpoint_name("desk-101", trunk_template=template) == "desk-101"
