"""Which callers may be called back: their number passes the checks of a dialled member number."""

from teamfoned.domain.phones import callable_number

NL = ("NL",)
PREMIUM = "+31900123456"  # a Dutch 0900 (premium-rate) number


def test_a_valid_number_of_an_allowed_country_is_called_back_in_e164() -> None:
    assert callable_number("+31 20 123 4502", allowed_countries=NL) == "+31201234502"
    assert callable_number("0612345678", allowed_countries=NL, default_region="NL") == "+31612345678"


def test_withheld_foreign_premium_and_desk_phones_are_never_called_back() -> None:
    for raw in ("", None, "anonymous", "Anonymous", "unknown", "1001", "sip:desk-1",
                "+4930123456", PREMIUM, "+31201234502,1", "+3120"):
        assert callable_number(raw, allowed_countries=NL) is None, raw
