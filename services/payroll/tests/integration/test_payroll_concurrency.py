"""Two requests racing to create the same row (a year's default policy, a month's run) both
succeed, and the row exists once."""
import threading

from sqlalchemy import func, select

from payroll import services
from payroll.orm import PolicyVersion, TppRun


def race(runtime, use_case):
    """Run ``use_case`` in a first transaction, start a second one that must wait for the first's
    row, then commit the first. Returns both results."""
    results = {}
    with runtime.uow() as first:
        results["first"] = use_case(first)
        second_done = threading.Event()

        def second():
            with runtime.uow() as uow:
                results["second"] = use_case(uow)
                uow.commit()
            second_done.set()

        worker = threading.Thread(target=second)
        worker.start()
        # The second transaction now blocks on the first's uncommitted row.
        assert not second_done.wait(0.5)
        first.commit()
    worker.join(timeout=10)
    assert second_done.is_set()
    return results


def test_concurrent_first_reads_store_the_default_policy_once(runtime):
    results = race(runtime, lambda uow: services.current_policy(uow, 2026, "reader").version)
    assert results == {"first": 1, "second": 1}
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 1


def test_concurrent_computes_of_a_new_month_follow_each_other(runtime):
    with runtime.uow() as uow:  # the policy exists already, so only the run is raced
        services.current_policy(uow, 2026, "reader")
        uow.commit()
    results = race(runtime, lambda uow: services.compute_run(uow, 2026, 6, "bpkad-operator").version)
    assert results == {"first": 1, "second": 2}
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(TppRun)) == 1
