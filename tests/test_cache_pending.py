"""A deferred key (`cache.defer`): its miss raises `Pending` and computes nothing; its hit loads."""

import pytest

from snippets.experiments import cache


@pytest.fixture
def counted(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    calls = []

    @cache.experiment("counted")
    def counted(config={"n": 3}):  # noqa: B006 (a config, as the site's experiments take it)
        calls.append(config["n"])
        return {"double": 2 * config["n"]}

    yield counted, calls
    cache.defer(())


def test_a_deferred_miss_raises_pending_naming_the_experiment_and_computes_nothing(counted):
    fn, calls = counted
    key = cache.entry_key("counted", {"n": 3}, fn)
    assert cache.defer({key}) == frozenset()
    with pytest.raises(cache.Pending) as raised:
        fn()
    assert (raised.value.name, raised.value.key) == ("counted", key)
    with pytest.raises(cache.Pending):
        fn(load=False)  # a caller that only makes sure it exists is told the same
    assert calls == [], "a deferred experiment was computed"
    assert fn({"n": 4}) == {"double": 8} and calls == [4], "another key is computed as usual"


def test_once_the_entry_is_there_a_deferred_key_loads_it(counted):
    fn, calls = counted
    assert fn() == {"double": 6} and calls == [3]  # another process (the runner) writes it
    cache.defer({cache.entry_key("counted", {"n": 3}, fn)})
    assert fn() == {"double": 6} and calls == [3]


def test_no_keys_computes_every_miss_again(counted):
    fn, calls = counted
    cache.defer({cache.entry_key("counted", {"n": 3}, fn)})
    assert cache.defer(()) != frozenset()
    assert fn() == {"double": 6} and calls == [3]
