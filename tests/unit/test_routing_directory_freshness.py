"""When the routing directory must reload: the rules of `Freshness`, without a database."""

from teamfoned.store.routing_directory import Freshness


def loaded_at(version: int) -> Freshness:
    f = Freshness()
    f.loaded(version, f.load_starting())
    return f


def test_nothing_loaded_is_stale() -> None:
    assert Freshness().stale


def test_a_load_makes_it_fresh_until_a_signal() -> None:
    f = loaded_at(4)
    assert not f.stale
    f.signalled()  # a notification, or the listener lost
    assert f.stale
    f.loaded(5, f.load_starting())
    assert not f.stale and f.version == 5


def test_a_signal_during_a_load_leaves_it_stale() -> None:
    f = loaded_at(4)
    f.signalled()
    started = f.load_starting()
    f.signalled()  # the change came in while the tables were being read
    f.loaded(5, started)
    assert f.stale


def test_the_version_check_finds_a_missed_change_and_only_that() -> None:
    f = loaded_at(4)
    f.version_seen(4)
    assert not f.stale
    f.version_seen(6)
    assert f.stale


def test_a_notification_of_a_version_already_loaded_changes_nothing() -> None:
    f = loaded_at(7)
    f.notified("6")  # sent before the load, delivered after it
    f.notified("7")
    assert not f.stale
    f.notified("8")
    assert f.stale


def test_a_notification_not_ours_to_read_reloads() -> None:
    f = loaded_at(7)
    f.notified("")
    assert f.stale
